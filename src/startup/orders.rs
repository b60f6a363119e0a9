//! The orders service's part of a process: its database (migrated), the
//! pool and page-token key its handlers share, its outbox relay and the
//! worker of its job queue (the purges and the payment saga).

use super::StartupError;
use crate::{
    actions::{AppState, maintenance},
    config::Settings,
    db::{
        self,
        outbox::{self, Doorbell},
        secrets,
    },
    domain::page::PageTokenKey,
    events,
    jobs::worker::Worker,
    relay::Relay,
};

/// The orders service, built.
pub struct OrdersService {
    pub state: AppState,
    pub relay: Option<Relay>,
    /// The worker of its job queue (the purges, the payment saga).
    pub jobs: Worker,
}

impl OrdersService {
    /// Migrates the database at `url`, builds the pool and, unless
    /// `--outbox-relay=false`, connects the relay to NATS.
    /// `bound` is the process's gRPC address (see [`super::saga`]).
    pub async fn build(settings: &Settings, url: &str, bound: std::net::SocketAddr) -> Result<Self, StartupError> {
        let applied = db::migrations::run(url).await.map_err(StartupError::Migrate)?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied database migrations");
        }
        let pool = db::connect_pool(url, &settings.database)?;
        let page_key = load_page_key(&pool).await?;
        set_search_language(&pool, &settings.catalog.search_language).await?;
        let relay = match settings.events.outbox_relay {
            true => Some(outbox_relay(settings, url, &pool).await?),
            false => None,
        };
        let retention = &settings.retention;
        let jobs = maintenance::orders_worker(
            pool.clone(),
            url.into(),
            retention.idempotency_retention,
            retention.outbox_retention,
        );
        let state = AppState {
            pool,
            page_key,
            products: Default::default(),
            outbox: Doorbell::new(&outbox::ORDERS, settings.events.outbox_relay_interval),
            database: db::launcher::database_name(url).unwrap_or("orders").into(),
            payment_timeout: settings.payments.payment_timeout,
        };
        let jobs = super::saga::with_saga(jobs, &state, settings, bound)?;
        Ok(OrdersService { state, relay, jobs })
    }
}

/// The outbox relay of this process: NATS connected (or found, or started),
/// the stream set up when the relay first leads.
async fn outbox_relay(settings: &Settings, url: &str, pool: &db::Pool) -> Result<Relay, StartupError> {
    let jetstream = events::connect(&settings.events, &super::data_dir(settings)).await?;
    Ok(Relay {
        outbox: outbox::ORDERS,
        pool: pool.clone(),
        database_url: url.into(),
        jetstream,
        prefix: settings.events.nats_subject_prefix.clone(),
        interval: settings.events.outbox_relay_interval,
    })
}

/// Makes `language` the catalog's search configuration, rebuilding the
/// products' search documents when it changes.
async fn set_search_language(pool: &db::Pool, language: &str) -> Result<(), StartupError> {
    let error = |reason: String| StartupError::SearchLanguage {
        language: language.to_owned(),
        reason,
    };
    let mut conn = pool.get().await.map_err(|e| error(e.to_string()))?;
    match db::search::set_configuration(&mut conn, language).await {
        Ok(true) => {
            tracing::info!(language, "rebuilt every product's search document");
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(diesel::result::Error::DatabaseError(_, info)) if info.message().contains("does not exist") => Err(error(
            "PostgreSQL has no such text search configuration (psql's \\dF lists them)".to_owned(),
        )),
        Err(e) => Err(error(e.to_string())),
    }
}

async fn load_page_key(pool: &db::Pool) -> Result<PageTokenKey, StartupError> {
    let error = |e: &dyn std::fmt::Display| StartupError::PageTokenKey(e.to_string());
    let mut conn = pool.get().await.map_err(|e| error(&e))?;
    let key = secrets::load(&mut conn, secrets::PAGE_TOKEN_KEY)
        .await
        .map_err(|e| error(&e))?;
    PageTokenKey::new(key).map_err(|e| error(&e))
}
