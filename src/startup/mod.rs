//! Building a process from [`Settings`] and running it: the services it
//! runs (`--services`), each on its own database, behind one gRPC server.
//!
//! [`Application::build`] does everything that can fail before serving
//! (finding the databases, migrating, binding the port), so a bad setting
//! fails fast with one clear line. [`Application::run_until`] takes the
//! shutdown signal as a parameter: `main` passes SIGINT/SIGTERM, tests pass
//! whatever they like.

mod background;
pub mod exposure;
pub mod jobs_admin;
mod metrics;
mod migrate;
mod orders;
mod router;
mod saga;
mod scrape_hooks;
mod web;

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use tokio::{net::TcpListener, sync::oneshot};
use tonic::transport::{ServerTlsConfig, server::TcpIncoming};

pub use migrate::migrate;
pub use router::MAX_MESSAGE_BYTES;

use crate::{
    actions::AppState,
    auth::{
        Gate, TokenVerifier,
        jwks_url::{FetchError, JwksUrlError},
        reload::KeyWatcher,
        remote::{KeyRefresher, RemoteKeys},
        token::AuthSetupError,
    },
    config::{DatabaseSettings, ServiceName, Settings},
    db::{self, launcher::LocalPostgres},
    events::EventsError,
    notifications::{Notifications, SetupError},
    payments::{self, Payments},
    service::health,
    tls::{self, TlsError},
};
use background::{Background, Work};
use orders::OrdersService;

/// The database created and used when no DATABASE_URL is given.
pub const LOCAL_DATABASE: &str = "orders";

/// Why the service could not start, in one line each.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Auth(#[from] AuthSetupError),
    #[error("{0}")]
    JwksUrl(#[from] JwksUrlError),
    #[error("--auth-jwks-url: {0}; the server does not start without the keys it serves")]
    KeySource(#[from] FetchError),
    #[error("{0}")]
    Tls(#[from] TlsError),
    #[error(
        "refusing to serve {0} without authentication: anyone who can reach it could read every order \
         and change the catalog. Configure --auth-jwks, --auth-jwks-url, --auth-public-key or --auth-hs256-secret-file \
         (with --auth-issuer and --auth-audience), listen on a loopback address, or pass --insecure to \
         accept the risk"
    )]
    Insecure(SocketAddr),
    #[error("{0}")]
    LocalDatabase(#[from] db::launcher::LocalPgError),
    #[error("{0}")]
    Notifications(#[from] SetupError),
    #[error("{0}")]
    Payments(#[from] payments::SetupError),
    #[error("the payment saga: {0}")]
    Saga(String),
    #[error("--services names no service: run at least one of orders, payments, notifications")]
    NoServices,
    #[error("orders jobs: {0}")]
    Jobs(String),
    #[error("{0}")]
    Events(#[from] EventsError),
    #[error("could not apply migrations: {0}")]
    Migrate(Box<dyn std::error::Error + Send + Sync>),
    #[error("could not create the connection pool: {0}")]
    Pool(#[from] deadpool::managed::BuildError),
    #[error("could not read the page-token key from the database: {0}")]
    PageTokenKey(String),
    #[error("could not set the catalog's search language to {language:?}: {reason}")]
    SearchLanguage { language: String, reason: String },
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Metrics(String),
    #[error("{0}")]
    Web(String),
    #[error("could not build server reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// A built application, bound to its port, ready to serve.
pub struct Application {
    listener: TcpListener,
    settings: Settings,
    gate: Arc<Gate>,
    tls: Option<ServerTlsConfig>,
    orders: Option<OrdersService>,
    payments: Option<Payments>,
    notifications: Option<Notifications>,
    keys: Option<KeyWatcher>,
    refresher: Option<KeyRefresher>,
    metrics: Option<crate::monitoring::endpoint::Endpoint>,
    web: Option<crate::web::WebPages>,
}

impl Application {
    /// Resolves the databases, applies migrations, builds the pools and
    /// binds the listening socket (port 0 picks a free port; see
    /// [`Self::local_addr`]).
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        // Security settings first: a bad key or certificate fails before
        // anything touches the database.
        let verifier = TokenVerifier::from_settings(&settings.security.auth)?;
        let remote = RemoteKeys::from_settings(&settings.security.auth)?;
        let tls = tls::server_config(&settings.security.tls)?;
        exposure::check_exposure(&settings, verifier.is_some(), tls.is_some())?;
        let gate = Arc::new(Gate::new(verifier, remote, &settings.security.auth));
        let keys = KeyWatcher::new(gate.clone(), &settings.security.auth);
        let refresh = gate.fetch_remote_keys().await?;
        let refresher = refresh.and_then(|due| KeyRefresher::new(gate.clone(), due));
        if settings.services.is_empty() {
            return Err(StartupError::NoServices);
        }
        let url = database_url(&settings.database).await?;
        // Bound before the services are built: the payment saga calls this
        // very address when the process runs the payment service too.
        let addr = settings.listen_addr();
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?;
        let orders = match settings.runs(ServiceName::Orders) {
            true => Some(OrdersService::build(&settings, &url, bound).await?),
            false => None,
        };
        let payments = match settings.runs(ServiceName::Payments) {
            true => Some(Payments::build(&settings, &url, &data_dir(&settings)).await?),
            false => None,
        };
        let notifications = match settings.runs(ServiceName::Notifications) {
            true => Some(Notifications::build(&settings, &url, data_dir(&settings)).await?),
            false => None,
        };
        let metrics = metrics::bind(&settings, orders.as_ref(), notifications.as_ref()).await?;
        let web = web::bind(&settings, bound).await?;
        Ok(Application {
            listener,
            settings,
            gate,
            tls,
            orders,
            payments,
            notifications,
            keys,
            refresher,
            metrics,
            web,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The address of the `/metrics` endpoint, when it is on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|endpoint| endpoint.local_addr())
    }

    /// The address of the web pages, when they are on.
    pub fn web_addr(&self) -> Option<SocketAddr> {
        self.web.as_ref().map(|pages| pages.local_addr())
    }

    /// The orders service's shared state (the pool), for tests and tools;
    /// `None` when this process does not run it.
    pub fn state(&self) -> Option<&AppState> {
        self.orders.as_ref().map(|orders| &orders.state)
    }

    /// The payment service's pool, when this process runs it.
    pub fn payments_pool(&self) -> Option<&db::Pool> {
        self.payments.as_ref().map(|p| &p.state.pool)
    }

    /// The development payment processor's faults, to switch at run time
    /// (tests), when this process runs the payment service.
    pub fn payment_faults(&self) -> Option<Arc<payments::processor::ProcessorFaults>> {
        self.payments.as_ref().map(|p| p.faults.clone())
    }

    /// The notifications service's pool, when this process runs it.
    pub fn notifications_pool(&self) -> Option<&db::Pool> {
        self.notifications.as_ref().map(|n| &n.pool)
    }

    /// Serves until `shutdown` completes, then reports NOT_SERVING, stops
    /// accepting calls and lets in-flight calls finish, for at most the
    /// drain timeout; the background work (relay, consumers, jobs) stops
    /// after that.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), StartupError> {
        let Application {
            listener,
            settings,
            gate,
            tls,
            orders,
            payments,
            notifications,
            keys,
            refresher,
            metrics,
            web,
        } = self;
        let origins = web::allowed_origins(&settings, web.as_ref().map(|pages| pages.local_addr()));
        // Health follows the database of the first service this process runs.
        let probed = orders.as_ref().map(|o| o.state.pool.clone());
        let probed = probed.or_else(|| payments.as_ref().map(|p| p.state.pool.clone()));
        let probed = probed.or_else(|| notifications.as_ref().map(|n| n.pool.clone()));
        let probed = probed.ok_or(StartupError::NoServices)?;
        let (orders, jobs) = match orders {
            Some(OrdersService { state, relay, jobs }) => (Some((state, relay)), Some(jobs)),
            None => (None, None),
        };
        let (payments, payments_jobs) = match payments {
            Some(Payments { state, relay, jobs, .. }) => (Some((state, relay)), Some(jobs)),
            None => (None, None),
        };
        let jobs = jobs.into_iter().chain(payments_jobs).collect();
        let orders_relay = orders.as_ref().and_then(|(_, relay)| relay.clone());
        let payments_relay = payments.as_ref().and_then(|(_, relay)| relay.clone());
        let relays = orders_relay.into_iter().chain(payments_relay).collect();
        let orders_doorbell = orders.as_ref().map(|(s, _)| (s.outbox.clone(), s.pool.clone()));
        let payments_doorbell = payments.as_ref().map(|(s, _)| (s.doorbell.clone(), s.pool.clone()));
        let doorbells = orders_doorbell.into_iter().chain(payments_doorbell).collect();
        let background = Background::start(Work {
            relays,
            jobs,
            notifications,
            doorbells,
            keys,
            refresher,
            metrics,
            web,
        });
        let (mut reporter, health_service) = tonic_health::server::health_reporter();
        let names = health::service_names(orders.is_some(), payments.is_some());
        let interval = settings.server.health_check_interval;
        let key_source = gate.key_source_status();
        let monitors = health::Monitors::start(&reporter, probed, interval, names, key_source).await;
        let (stop, stopped) = oneshot::channel::<()>();
        // TCP_NODELAY on every accepted socket: with Nagle's algorithm on, a
        // response written in two pieces waits ~40 ms for the client's delayed
        // ACK (measured: get-order p50 44 ms → 0.5 ms). tonic's own
        // `tcp_nodelay` setting does not apply to an incoming stream we pass in.
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let state = orders.as_ref().map(|(state, _)| state);
        let payments = payments.as_ref().map(|(state, _)| state);
        let server = router::router(state, payments, &settings, &origins, gate, tls, health_service)?
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            });
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => { monitors.stop(); return Ok(result?); }
            () = shutdown => {}
        }
        monitors.stop();
        monitors.shut_down(&mut reporter).await;
        tracing::info!(drain_timeout = ?settings.server.drain_timeout, "shutting down: draining in-flight calls");
        let _ = stop.send(());
        let drained = drain(server, settings.server.drain_timeout).await;
        // After the drain: the calls' last events are in the outbox by now,
        // and whatever is not yet published or sent waits for the next start.
        background.stop().await;
        drained
    }
}

async fn drain(
    server: impl Future<Output = Result<(), tonic::transport::Error>>,
    timeout: Duration,
) -> Result<(), StartupError> {
    match tokio::time::timeout(timeout, server).await {
        Ok(result) => {
            tracing::info!("all calls finished; stopped");
            Ok(result?)
        }
        Err(_) => {
            tracing::warn!("drain timeout reached with calls still in flight; stopping anyway");
            Ok(())
        }
    }
}

/// The database to use: DATABASE_URL if given, else a local PostgreSQL
/// (found, or started as a private cluster) with an `orders` database.
pub async fn database_url(settings: &DatabaseSettings) -> Result<String, StartupError> {
    if let Some(url) = &settings.database_url {
        return Ok(url.expose().to_owned());
    }
    let mut local = LocalPostgres::from_env();
    if let Some(dir) = &settings.data_dir {
        local.data_dir = dir.clone();
    }
    let server = local.server_url().await?;
    let url = db::launcher::ensure_database(&server, LOCAL_DATABASE).await?;
    tracing::info!(database = %url, "no DATABASE_URL set: using the local PostgreSQL");
    Ok(url)
}

/// The data directory of the private PostgreSQL (`--data-dir` or its
/// default); the private NATS store and the mail folder live beside it.
pub fn data_dir(settings: &Settings) -> PathBuf {
    let configured = settings.database.data_dir.clone();
    configured.unwrap_or_else(|| LocalPostgres::from_env().data_dir)
}
