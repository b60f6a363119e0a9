//! The app under test: [`spawn_app`] starts the real server in-process on
//! port 0 against a fresh [`TestDatabase`] of its own, and hands back a
//! [`TestApp`] with connected clients. [`spawn_secured_app`] starts one that
//! requires bearer tokens; its default clients then carry a token with every
//! role, and [`TestApp::with_token`] gives [`Clients`] that send any other.
//!
//! Here because every test starts here: how a server is configured, started,
//! reached and stopped. Where its database comes from is in
//! [`crate::test_database`].

use std::{net::SocketAddr, time::Duration};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use orders::{
    config::{MetricsAddr, ServiceName, Settings, WebAddr},
    db::Pool,
    proto::{
        audit_service_client::AuditServiceClient, catalog_service_client::CatalogServiceClient,
        order_service_client::OrderServiceClient, payments::v1::payment_service_client::PaymentServiceClient,
    },
    startup::{Application, StartupError},
};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};
use tonic_health::pb::health_client::HealthClient;

use crate::{
    test_database::TestDatabase,
    tokens::{self, ALL_ROLES},
};

/// Adds `authorization: Bearer <token>` to every call, when it has a token.
#[derive(Debug, Clone, Default)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    pub fn token(token: &str) -> Bearer {
        Bearer::header(&format!("Bearer {token}"))
    }

    /// Sends `value` as the whole `authorization` metadata.
    pub fn header(value: &str) -> Bearer {
        Bearer(Some(value.parse().expect("an ASCII header value")))
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The clients of a test, each sending its [`Bearer`] token (if any).
pub type Orders = OrderServiceClient<InterceptedService<Channel, Bearer>>;
pub type Catalog = CatalogServiceClient<InterceptedService<Channel, Bearer>>;
pub type Health = HealthClient<InterceptedService<Channel, Bearer>>;
pub type Audit = AuditServiceClient<InterceptedService<Channel, Bearer>>;
pub type Payments = PaymentServiceClient<InterceptedService<Channel, Bearer>>;

/// Clients that send one token (or none).
#[derive(Debug, Clone)]
pub struct Clients {
    pub orders: Orders,
    pub catalog: Catalog,
    pub health: Health,
    pub audit: Audit,
    /// Answers only where the app runs the payment service.
    pub payments: Payments,
}

impl Clients {
    pub fn new(channel: Channel, bearer: Bearer) -> Clients {
        Clients {
            orders: OrderServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            catalog: CatalogServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            health: HealthClient::with_interceptor(channel.clone(), bearer.clone()),
            audit: AuditServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            payments: PaymentServiceClient::with_interceptor(channel, bearer),
        }
    }
}

/// A running server with its own database and clients.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The web pages' address, where a test serves them
    /// ([`crate::web::serve_pages`]).
    pub web: Option<SocketAddr>,
    /// Clients with the default token: none, or every role on a secured app.
    pub catalog: Catalog,
    pub orders: Orders,
    pub health: Health,
    /// The connection the clients share.
    pub channel: Channel,
    /// The app's own pool, for assertions straight on the tables.
    pub pool: Pool,
    /// The URL of this test's database.
    pub db_url: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), StartupError>>>,
    // Last: the databases are dropped after the server has been stopped (a
    // replica shares its first app's database and owns none).
    _databases: Vec<TestDatabase>,
}

/// Starts the app with the default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `configure` has adjusted its settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in(TestDatabase::create().await, configure).await
}

/// Starts an app that requires tokens ([`tokens::require_tokens`]), after
/// `configure`; its default clients send a token of `admin` with every role.
pub async fn spawn_secured_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(|settings| {
        tokens::require_tokens(settings);
        configure(settings);
    })
    .await
}

/// [`spawn_secured_app_with`] the default settings.
pub async fn spawn_secured_app() -> TestApp {
    spawn_secured_app_with(|_| {}).await
}

/// Starts the app on `database` after `configure` has adjusted its settings.
pub async fn spawn_app_in(database: TestDatabase, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(&database.url);
    configure(&mut settings);
    let db_url = database.url.clone();
    start(settings, db_url, vec![database]).await
}

/// Starts the app on `databases` (the first is the orders database) after
/// `configure`; the app owns them all and drops them when it is dropped.
pub async fn spawn_app_owning(databases: Vec<TestDatabase>, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(&databases[0].url);
    configure(&mut settings);
    let db_url = databases[0].url.clone();
    start(settings, db_url, databases).await
}

/// Starts an app running the orders and the payment services, each on a
/// fresh database of its own, after `configure`: the app for a test that
/// calls every method of the API.
pub async fn spawn_app_with_payments(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let payments = TestDatabase::create_empty().await;
    let payments_url = payments.url.clone();
    spawn_app_owning(vec![TestDatabase::create().await, payments], |settings| {
        settings.services = vec![ServiceName::Orders, ServiceName::Payments];
        settings.payments.payments_database_url = Some(payments_url.as_str().into());
        configure(settings);
    })
    .await
}

/// Starts a second server process's worth of app on `first`'s database, as
/// a replica behind a load balancer would run; `first` must outlive it.
pub async fn spawn_replica(first: &TestApp, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(&first.db_url);
    configure(&mut settings);
    start(settings, first.db_url.clone(), Vec::new()).await
}

async fn start(settings: Settings, db_url: String, databases: Vec<TestDatabase>) -> TestApp {
    let tls = settings.security.tls.tls_cert.is_some();
    let bearer = match settings.security.auth.is_enabled() {
        true => Bearer::token(&tokens::token("admin", &ALL_ROLES)),
        false => Bearer::default(),
    };

    let app = Application::build(settings).await.expect("the app builds");
    let addr = app.local_addr();
    let web = app.web_addr();
    let pool = app.state().expect("the test app runs the orders service").pool.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    // The listener is bound already, so connecting cannot race the start.
    // A TLS server needs a TLS client: its tests make their own channels,
    // and the default clients' plaintext one is never actually opened.
    let channel = match tls {
        false => connect_channel(addr).await,
        true => Channel::from_shared(format!("http://{addr}")).unwrap().connect_lazy(),
    };
    let Clients {
        orders,
        catalog,
        health,
        ..
    } = Clients::new(channel.clone(), bearer);
    TestApp {
        addr,
        web,
        catalog,
        orders,
        health,
        channel,
        pool,
        db_url,
        stop: Some(stop),
        server: Some(server),
        _databases: databases,
    }
}

/// The settings every test server starts from: port 0, the given database,
/// a small pool, a fast health probe, only the orders service, and no
/// outbox relay (the event tests turn it on, each with a subject prefix and
/// stream of its own).
pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings::defaults();
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.database.database_url = Some(database_url.into());
    settings.database.db_pool_size = 8;
    settings.server.health_check_interval = Duration::from_millis(200);
    settings.events.outbox_relay = false;
    // The notifications service runs only where a test asks for it, with a
    // database of its own (see `crate::notifications_harness`).
    settings.services = vec![ServiceName::Orders];
    // Metrics only where a test asks for them: they share one recorder per
    // process, and the default port one per machine.
    settings.metrics.metrics_addr = MetricsAddr(None);
    settings.web.web_addr = WebAddr::Off;
    settings
}

/// A channel to the server at `addr`.
pub async fn connect_channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connects")
}

/// A channel to the server at `addr` whose connection comes from the
/// loopback address `source` (e.g. 127.0.0.2), as a second machine would.
pub async fn connect_channel_from(addr: SocketAddr, source: std::net::Ipv4Addr) -> Channel {
    let connector = tower::service_fn(move |_: http::Uri| async move {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(source.into(), 0))?;
        let stream = socket.connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
    });
    let endpoint = Channel::from_shared(format!("http://{addr}")).unwrap();
    endpoint.connect_with_connector(connector).await.expect("connects")
}

impl TestApp {
    /// Clients that send `token` with every call.
    pub fn with_token(&self, token: &str) -> Clients {
        Clients::new(self.channel.clone(), Bearer::token(token))
    }

    /// Clients that send no token.
    pub fn without_token(&self) -> Clients {
        Clients::new(self.channel.clone(), Bearer::default())
    }

    /// Clients that send `bearer`.
    pub fn with_bearer(&self, bearer: Bearer) -> Clients {
        Clients::new(self.channel.clone(), bearer)
    }

    /// Starts graceful shutdown (as SIGTERM would) without waiting for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Starts graceful shutdown and waits for the server to finish.
    pub async fn shutdown(&mut self) -> Result<(), StartupError> {
        self.begin_shutdown();
        match self.server.take() {
            Some(server) => server.await.expect("the server task does not panic"),
            None => Ok(()),
        }
    }

    /// A fresh connection to this test's database.
    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.db_url)
            .await
            .expect("connects to the test database")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
