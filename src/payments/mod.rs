//! The payment service: takes customers' money for orders (authorize,
//! capture, cancel, refund), with an append-only ledger in its own
//! database. A service of its own, in the same binary (see `--services`):
//! it never reads another service's database; the orders service calls it
//! over gRPC (`payments.v1.PaymentService`).
//!
//! Its rooms, outside in, with the same shape as the orders service:
//! [`service`] → [`actions`] → [`processor`], [`db`] → [`domain`]. Every
//! ledger entry is also an event, relayed to NATS by the shared relay
//! ([`crate::relay`], with [`db::OUTBOX`]).

pub mod actions;
pub mod db;
pub mod domain;
pub mod processor;
pub mod service;

use std::{path::Path, sync::Arc};

use futures_util::FutureExt;

use tracing::info;

use crate::{
    config::{SecretUrl, Settings},
    db::{
        Pool,
        idempotency::{self, PURGE_IDEMPOTENCY_KEYS},
        outbox::Doorbell,
        sibling::{self, PlannedDatabase},
    },
    events::{self, EventsError},
    jobs::{Worker, cleanup::SUCCEEDED_RETENTION},
    relay::Relay,
};
use actions::PaymentsState;
use processor::{DevelopmentProcessor, ProcessorFaults};

/// Why the payment service could not start, in one line each.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("payments database: {0}")]
    Database(String),
    #[error("could not apply the payments migrations: {0}")]
    Migrate(String),
    #[error("{0}")]
    Events(#[from] EventsError),
}

/// The service, built: its state (pool, processor, doorbell), the handle on
/// the development processor's faults, its relay where this process
/// relays, and the worker of its job queue (the hourly purge of old
/// idempotency keys).
pub struct Payments {
    pub state: PaymentsState,
    pub faults: Arc<ProcessorFaults>,
    pub relay: Option<Relay>,
    pub jobs: Worker,
}

impl Payments {
    /// Finds (or creates) and migrates its database, builds the pool and the
    /// development processor (with the faults of the settings) and, unless
    /// `--outbox-relay=false`, connects its relay to NATS.
    pub async fn build(settings: &Settings, orders_url: &str, data_dir: &Path) -> Result<Self, SetupError> {
        let url = database_url(settings, orders_url)
            .await
            .map_err(|e| SetupError::Database(e.to_string()))?;
        let applied = db::migrate(url.expose())
            .await
            .map_err(|e| SetupError::Migrate(e.to_string()))?;
        if !applied.is_empty() {
            info!(?applied, "applied payments migrations");
        }
        let pool = crate::db::connect_pool(url.expose(), &settings.database)
            .map_err(|e| SetupError::Database(e.to_string()))?;
        let relay = match settings.events.outbox_relay {
            true => Some(relay(settings, &url, &pool, data_dir).await?),
            false => None,
        };
        let faults = Arc::new(ProcessorFaults::default());
        faults.set_delay(settings.payments.payment_processor_delay);
        faults.set_unavailable(settings.payments.payment_processor_unavailable);
        let processor = DevelopmentProcessor { faults: faults.clone() };
        info!(database = %url, "payment service ready (development processor)");
        let jobs = worker(pool.clone(), url.clone(), settings.retention.idempotency_retention);
        let state = PaymentsState {
            pool,
            processor: Arc::new(processor),
            doorbell: Doorbell::new(&db::OUTBOX, settings.events.outbox_relay_interval),
        };
        Ok(Payments {
            state,
            faults,
            relay,
            jobs,
        })
    }
}

/// The worker of the payment database's job queue: the hourly purge of
/// idempotency keys older than `idempotency_retention` (a retry after it
/// would move money again, as for the orders service's keys), and the
/// deletion of old succeeded jobs.
pub fn worker(pool: Pool, url: SecretUrl, idempotency_retention: std::time::Duration) -> Worker {
    Worker::new("payments", pool, url)
        .purge_hourly(PURGE_IDEMPOTENCY_KEYS, idempotency_retention, |conn, cutoff, limit| {
            idempotency::purge_before(conn, cutoff, limit).boxed()
        })
        .delete_succeeded_after(SUCCEEDED_RETENTION)
}

/// The relay of the ledger's events.
async fn relay(settings: &Settings, url: &SecretUrl, pool: &Pool, data_dir: &Path) -> Result<Relay, SetupError> {
    Ok(Relay {
        outbox: db::OUTBOX,
        pool: pool.clone(),
        database_url: url.clone(),
        jetstream: events::connect(&settings.events, data_dir).await?,
        prefix: settings.events.nats_subject_prefix.clone(),
        interval: settings.events.outbox_relay_interval,
    })
}

/// `--payments-database-url`, else `<orders database>_payments` on the
/// orders database's server, created if missing.
pub async fn database_url(
    settings: &Settings,
    orders_url: &str,
) -> Result<SecretUrl, crate::db::launcher::LocalPgError> {
    let configured = settings.payments.payments_database_url.as_ref();
    sibling::ensure(configured, orders_url, DATABASE_SUFFIX).await
}

/// Which database the payment service will use, before anything is
/// created: the one configured, or one named after the orders database.
pub fn planned_database(settings: &Settings, orders_url: &str) -> PlannedDatabase {
    let configured = settings.payments.payments_database_url.as_ref();
    sibling::planned(configured, orders_url, DATABASE_SUFFIX)
}

/// The default database's name: `<orders database>_payments`.
const DATABASE_SUFFIX: &str = "payments";
