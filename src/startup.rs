//! Building the application from [`Settings`] and running it.
//!
//! [`Application::build`] does everything that can fail before serving
//! (finding the database, migrating, binding the port), so a bad setting
//! fails fast with one clear line. [`Application::run_until`] takes the
//! shutdown signal as a parameter: `main` passes SIGINT/SIGTERM, tests pass
//! whatever they like.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, sync::oneshot};
use tonic::transport::{Server, ServerTlsConfig, server::TcpIncoming};
use tonic_health::ServingStatus;
use tower::{
    layer::util::{Identity, Stack},
    util::MapResponseLayer,
};

use crate::{
    actions::AppState,
    auth::{Gate, TokenVerifier, token::AuthSetupError},
    config::{DatabaseSettings, Settings},
    db::{self, launcher::LocalPostgres, secrets},
    domain::page::PageTokenKey,
    events::{self, EventsError},
    middleware::{
        GrpcResponse,
        auth::AuthLayer,
        codec_errors::rewrite_codec_errors,
        concurrency_limit::GlobalConcurrencyLimitLayer,
        deadline::DeadlineLayer,
        log::CallLogLayer,
        rate_limit::{RateLimitLayer, RateLimiter},
    },
    proto::{self, catalog_service_server::CatalogServiceServer, order_service_server::OrderServiceServer},
    relay::Relay,
    service::{catalog::CatalogApi, health, orders::OrderApi},
    tls::{self, TlsError},
};

/// The largest request message accepted (the biggest valid CreateOrder is
/// far smaller); anything larger is refused before it is decoded.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The tower layers around every call (see [`crate::middleware`]).
type Layers = Stack<
    MapResponseLayer<fn(GrpcResponse) -> GrpcResponse>,
    Stack<
        DeadlineLayer,
        Stack<GlobalConcurrencyLimitLayer, Stack<RateLimitLayer, Stack<AuthLayer, Stack<CallLogLayer, Identity>>>>,
    >,
>;

/// The database created and used when no DATABASE_URL is given.
pub const LOCAL_DATABASE: &str = "orders";

/// Why the service could not start, in one line each.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Auth(#[from] AuthSetupError),
    #[error("{0}")]
    Tls(#[from] TlsError),
    #[error(
        "refusing to serve {0} without authentication: anyone who can reach it could read every order \
         and change the catalog. Configure --auth-jwks, --auth-public-key or --auth-hs256-secret-file \
         (with --auth-issuer and --auth-audience), listen on a loopback address, or pass --insecure to \
         accept the risk"
    )]
    Insecure(SocketAddr),
    #[error("{0}")]
    LocalDatabase(#[from] db::launcher::LocalPgError),
    #[error("{0}")]
    Events(#[from] EventsError),
    #[error("could not apply migrations: {0}")]
    Migrate(Box<dyn std::error::Error + Send + Sync>),
    #[error("could not create the connection pool: {0}")]
    Pool(#[from] deadpool::managed::BuildError),
    #[error("could not read the page-token key from the database: {0}")]
    PageTokenKey(String),
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("could not build server reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// A built application, bound to its port, ready to serve.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    settings: Settings,
    gate: Arc<Gate>,
    tls: Option<ServerTlsConfig>,
    relay: Option<Relay>,
}

impl Application {
    /// Resolves the database, applies migrations, builds the pool and binds
    /// the listening socket (port 0 picks a free port; see [`Self::local_addr`]).
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        // Security settings first: a bad key or certificate fails before
        // anything touches the database.
        let verifier = TokenVerifier::from_settings(&settings.security.auth)?;
        let tls = tls::server_config(&settings.security.tls)?;
        check_exposure(&settings, verifier.is_some(), tls.is_some())?;
        let gate = Arc::new(Gate::new(verifier, &settings.security.auth));
        let url = database_url(&settings.database).await?;
        let applied = db::migrations::run(&url).await.map_err(StartupError::Migrate)?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied database migrations");
        }
        let pool = db::connect_pool(&url, &settings.database)?;
        let page_key = load_page_key(&pool).await?;
        let addr = settings.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let relay = match settings.events.outbox_relay {
            true => Some(outbox_relay(&settings, &url, &pool).await?),
            false => None,
        };
        let state = AppState {
            pool,
            page_key,
            products: Default::default(),
        };
        Ok(Application {
            listener,
            state,
            settings,
            gate,
            tls,
            relay,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The shared state (the pool), for tests and tools.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then reports NOT_SERVING, stops
    /// accepting calls and lets in-flight calls finish, for at most the
    /// drain timeout.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), StartupError> {
        let Application {
            listener,
            state,
            settings,
            gate,
            tls,
            relay,
        } = self;
        let (stop_relay, relay_stopped) = oneshot::channel::<()>();
        let relay = relay.map(|relay| {
            tokio::spawn(relay.run(async {
                let _ = relay_stopped.await;
            }))
        });
        let (mut reporter, health_service) = tonic_health::server::health_reporter();
        let monitor = health::start_monitor(
            reporter.clone(),
            state.pool.clone(),
            settings.server.health_check_interval,
        )
        .await;
        let (stop, stopped) = oneshot::channel::<()>();
        // TCP_NODELAY on every accepted socket: with Nagle's algorithm on, a
        // response written in two pieces waits ~40 ms for the client's delayed
        // ACK (measured: get-order p50 44 ms → 0.5 ms). tonic's own
        // `tcp_nodelay` setting does not apply to an incoming stream we pass in.
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let server =
            router(&state, &settings, gate, tls, health_service)?.serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            });
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => { monitor.abort(); return Ok(result?); }
            () = shutdown => {}
        }
        monitor.abort();
        health::set_all(&reporter, ServingStatus::NotServing).await;
        health::end_watches(&mut reporter).await;
        tracing::info!(drain_timeout = ?settings.server.drain_timeout, "shutting down: draining in-flight calls");
        let _ = stop.send(());
        let drained = drain(server, settings.server.drain_timeout).await;
        // After the drain: the calls' last events are in the outbox by now,
        // and whatever the relay has not published waits there for the next start.
        let _ = stop_relay.send(());
        if let Some(relay) = relay {
            let _ = relay.await;
        }
        drained
    }
}

fn router(
    state: &AppState,
    settings: &Settings,
    gate: Arc<Gate>,
    tls: Option<ServerTlsConfig>,
    health_service: tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>,
) -> Result<tonic::transport::server::Router<Layers>, StartupError> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // google.rpc.ErrorInfo & co., so grpcurl can print error details.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            // Both reflection versions, so `list` shows both whichever is asked.
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
    };
    let catalog =
        CatalogServiceServer::new(CatalogApi::new(state.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let orders = OrderServiceServer::new(OrderApi::new(state.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let server = match tls {
        Some(tls) => Server::builder().tls_config(tls)?,
        None => Server::builder(),
    };
    let rate = settings.server.rate_limit_rps;
    let limiter = (rate > 0.0).then(|| Arc::new(RateLimiter::new(rate, settings.server.rate_limit_burst)));
    // Layers run in the order added: the log line sees every call, including
    // those refused further in; nothing but the log runs before the caller
    // is authenticated, and the rate limit counts only admitted calls.
    Ok(server
        .layer(CallLogLayer)
        .layer(AuthLayer::from_gate(gate))
        .layer(RateLimitLayer::new(limiter))
        .layer(GlobalConcurrencyLimitLayer::new(settings.server.concurrency_limit))
        .layer(DeadlineLayer::new(settings.server.request_timeout))
        .layer(MapResponseLayer::new(
            rewrite_codec_errors as fn(GrpcResponse) -> GrpcResponse,
        ))
        .add_service(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(catalog)
        .add_service(orders))
}

/// Refuses to serve a non-loopback address without authentication unless
/// `--insecure` says so, and warns about every weaker setup it allows.
fn check_exposure(settings: &Settings, authenticated: bool, tls: bool) -> Result<(), StartupError> {
    let addr = settings.addr;
    let exposed = !addr.ip().is_loopback();
    match (authenticated, exposed) {
        (false, true) if !settings.security.insecure => return Err(StartupError::Insecure(addr)),
        (false, true) => tracing::warn!(
            %addr,
            "INSECURE (--insecure): serving the network WITHOUT AUTHENTICATION; anyone who can reach \
             this port can read every order, cancel or ship it, and change the catalog"
        ),
        (false, false) => tracing::warn!(
            %addr,
            "authentication is off: every local process may call every RPC (configure --auth-* before \
             serving anything but loopback)"
        ),
        (true, true) if !tls => tracing::warn!(
            %addr,
            "bearer tokens will cross the network in clear text: configure --tls-cert/--tls-key unless \
             TLS ends in front of this server"
        ),
        (true, _) => {}
    }
    Ok(())
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

/// The outbox relay of this process: NATS connected (or found, or started),
/// the stream set up when the relay first leads.
async fn outbox_relay(settings: &Settings, url: &str, pool: &db::Pool) -> Result<Relay, StartupError> {
    let data_dir = settings.database.data_dir.clone();
    let data_dir = data_dir.unwrap_or_else(|| LocalPostgres::from_env().data_dir);
    let jetstream = events::connect(&settings.events, &data_dir).await?;
    Ok(Relay {
        pool: pool.clone(),
        database_url: url.into(),
        jetstream,
        prefix: settings.events.nats_subject_prefix.clone(),
    })
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

async fn load_page_key(pool: &db::Pool) -> Result<PageTokenKey, StartupError> {
    let error = |e: &dyn std::fmt::Display| StartupError::PageTokenKey(e.to_string());
    let mut conn = pool.get().await.map_err(|e| error(&e))?;
    let key = secrets::load(&mut conn, secrets::PAGE_TOKEN_KEY)
        .await
        .map_err(|e| error(&e))?;
    PageTokenKey::new(key).map_err(|e| error(&e))
}

/// `orders migrate`: applies pending migrations and returns their versions.
pub async fn migrate(settings: &Settings) -> Result<Vec<String>, StartupError> {
    let url = database_url(&settings.database).await?;
    db::migrations::run(&url).await.map_err(StartupError::Migrate)
}
