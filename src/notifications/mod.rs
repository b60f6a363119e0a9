//! The notifications service: emails customers when their orders are
//! placed, paid, cancelled (saying why, and whether they are refunded),
//! refunded and shipped.
//!
//! A service of its own, in the same binary (see `--services`): it has its
//! own database ([`db`]), never reads the orders database, and learns
//! everything from the order events on NATS JetStream ([`consumer`]). Each
//! event becomes at most one stored email ([`actions::handle`]), sent by a
//! job of the service's own job queue ([`actions::send_email`]) through
//! SMTP or into `.eml` files ([`mail`]).
//!
//! Its rooms, outside in: [`consumer`] → [`actions`] → [`mail`], [`db`].

pub mod actions;
pub mod consumer;
pub mod db;
pub mod mail;

use std::{future::Future, path::PathBuf, sync::Arc};

use async_nats::jetstream;
use futures_util::FutureExt;
use lettre::message::Mailbox;
use tracing::{Instrument, info};

use crate::{
    config::{SecretUrl, Settings, SubjectPrefix},
    db::{
        Pool, launcher,
        sibling::{self, PlannedDatabase},
    },
    events::{self, EventsError},
    jobs::worker::{JobError, Worker},
};
use mail::transport::Mailer;

/// Why the notifications service could not start, in one line each.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("notifications database: {0}")]
    Database(String),
    #[error("could not apply the notifications migrations: {0}")]
    Migrate(String),
    #[error("{0}")]
    Mail(String),
    #[error("{0}")]
    Events(#[from] EventsError),
}

/// The service, built and ready to run.
pub struct Notifications {
    pub pool: Pool,
    database_url: SecretUrl,
    jetstream: jetstream::Context,
    prefix: SubjectPrefix,
    mailer: Mailer,
    from: Mailbox,
}

impl Notifications {
    /// Finds (or creates) and migrates its database, connects to NATS, and
    /// sets up where emails go. `orders_url` is the orders database, beside
    /// which the default notifications database lives.
    pub async fn build(settings: &Settings, orders_url: &str, data_dir: PathBuf) -> Result<Self, SetupError> {
        let url = database_url(settings, orders_url).await?;
        let applied = db::migrate(url.expose())
            .await
            .map_err(|e| SetupError::Migrate(e.to_string()))?;
        if !applied.is_empty() {
            info!(?applied, "applied notifications migrations");
        }
        let pool = crate::db::connect_pool(url.expose(), &settings.database)
            .map_err(|e| SetupError::Database(e.to_string()))?;
        let mailer = mailer(settings, &data_dir)?;
        info!(database = %url, mail = %mailer.describe(), "notifications service ready");
        Ok(Notifications {
            pool,
            database_url: url,
            jetstream: events::connect(&settings.events, &data_dir).await?,
            prefix: settings.events.nats_subject_prefix.clone(),
            mailer,
            from: settings.notifications.mail_from.clone(),
        })
    }

    /// Consumes events and sends emails until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let consumer = consumer::run(self.jetstream, self.prefix, self.pool.clone(), self.from.clone());
        let worker = sending_worker(self.pool, self.database_url, self.mailer, self.from);
        // The consumer stops at once (an unacked event comes back); the worker
        // finishes and records its round first.
        let shutdown = shutdown.shared();
        let consuming = async {
            tokio::select! {
                () = shutdown.clone() => {}
                () = consumer => {}
            }
        };
        tokio::join!(consuming, worker.run(shutdown.clone()));
    }
}

/// How many emails are sent at once, at most: a send mostly waits (for the
/// mail server, and for two commits), and with the job queue's default of 4
/// a local SMTP sink took about 60 emails/s. Each send holds a database
/// connection from start to end, so that recording it as sent never waits
/// for one (that wait would widen the one window in which an email can go
/// out twice); so at most half the pool's connections send.
const SENDING_CONCURRENCY: usize = 16;

/// The job queue worker of the notifications database, sending emails.
fn sending_worker(pool: Pool, database_url: SecretUrl, mailer: Mailer, from: Mailbox) -> Worker {
    let context = Arc::new((pool.clone(), mailer, from));
    let concurrency = SENDING_CONCURRENCY.min(pool.status().max_size / 2).max(1);
    let mut worker = Worker::new("notifications", pool, database_url);
    worker.concurrency = concurrency;
    // A send is bounded by actions::SEND_TIMEOUT, so a job still running
    // after this lease belongs to a worker that died: it is sent again.
    worker.lease = actions::SEND_TIMEOUT + std::time::Duration::from_secs(5);
    worker
        .delete_succeeded_after(crate::jobs::cleanup::SUCCEEDED_RETENTION)
        .handler(actions::SEND_EMAIL, move |job| {
            let context = context.clone();
            async move {
                let email_id = job.payload["email_id"].as_i64();
                let email_id =
                    email_id.ok_or_else(|| JobError::Permanent(format!("no email_id in {}", job.payload)))?;
                let (pool, mailer, from) = &*context;
                let span = send_email_span(&job.payload);
                let sent = actions::send_email(pool, mailer, from, email_id)
                    .instrument(span.clone())
                    .await;
                crate::traces::record_result(&span, &sent);
                sent
            }
            .boxed()
        })
}

/// The span of sending an email (INTERNAL, `send email`, with the
/// template's kind), continuing the trace of the event that asked for it,
/// which the job's payload carries (`trace`).
fn send_email_span(payload: &serde_json::Value) -> tracing::Span {
    let span = tracing::info_span!(
        target: crate::traces::SPANS,
        "send email",
        otel.kind = "internal",
        otel.status_code = tracing::field::Empty,
        orders.email.kind = tracing::field::Empty,
    );
    crate::traces::propagation::continue_job(&span, payload);
    span
}

/// `--notifications-database-url`, else `<orders database>_notifications`
/// on the orders database's server, created if missing.
pub async fn database_url(settings: &Settings, orders_url: &str) -> Result<SecretUrl, SetupError> {
    let configured = settings.notifications.notifications_database_url.as_ref();
    sibling::ensure(configured, orders_url, DATABASE_SUFFIX)
        .await
        .map_err(|e| SetupError::Database(e.to_string()))
}

/// Which database the notifications service will use, before anything is
/// created: the one configured, or one named after the orders database.
pub fn planned_database(settings: &Settings, orders_url: &str) -> PlannedDatabase {
    let configured = settings.notifications.notifications_database_url.as_ref();
    sibling::planned(configured, orders_url, DATABASE_SUFFIX)
}

/// The default database's name: `<orders database>_notifications`.
const DATABASE_SUFFIX: &str = "notifications";

/// Where emails go: `--smtp-url`, or `.eml` files in `--mail-dir` (by
/// default `mail/` beside the PostgreSQL data directory).
pub fn mailer(settings: &Settings, data_dir: &std::path::Path) -> Result<Mailer, SetupError> {
    let mail = &settings.notifications;
    let mail_dir = mail.mail_dir.clone().unwrap_or_else(|| default_mail_dir(data_dir));
    Mailer::new(mail.smtp_url.as_ref(), mail_dir).map_err(SetupError::Mail)
}

/// `mail/` beside the PostgreSQL data directory.
fn default_mail_dir(data_dir: &std::path::Path) -> PathBuf {
    launcher::beside_data_dir(data_dir, "mail")
}
