//! `grpc.health.v1.Health` for the server ("") and each service.
//!
//! Everything is SERVING while the database answers, NOT_SERVING while it
//! does not (a background probe checks every `--health-check-interval`), and
//! NOT_SERVING for good once shutdown starts, so load balancers stop sending
//! before the server drains. Open `Watch` streams then see NOT_SERVING and
//! end ([`end_watches`]): left open, each would hold the drain until its
//! timeout, as the server waits for every call in flight.
//!
//! With `--auth-jwks-url`, [`KEY_SOURCE`] is SERVING while the URL answered
//! its last fetch and NOT_SERVING while it does not ([`follow_key_source`]).
//! The server ("") stays SERVING meanwhile: calls still verify with the
//! keys fetched last, so a load balancer has no reason to stop sending.

use std::time::Duration;

use tokio::sync::watch;
use tonic::server::NamedService;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    db::{Pool, pool::ping},
    monitoring::catalogue::KEY_SOURCE_UP,
    proto::{
        audit_service_server::AuditServiceServer, catalog_service_server::CatalogServiceServer,
        order_service_server::OrderServiceServer, payments::v1::payment_service_server::PaymentServiceServer,
    },
    service::{audit::AuditApi, catalog::CatalogApi, orders::OrderApi},
};

/// The health entry of the JWKS URL's reachability.
pub const KEY_SOURCE: &str = "orders.auth.KeySource";

/// The service names health is reported for; "" is the whole server.
const SERVICE_NAMES: [&str; 5] = [
    "",
    <OrderServiceServer<OrderApi> as NamedService>::NAME,
    <CatalogServiceServer<CatalogApi> as NamedService>::NAME,
    <AuditServiceServer<AuditApi> as NamedService>::NAME,
    PAYMENT_SERVICE,
];

/// The payment service's name (`payments.v1.PaymentService`).
const PAYMENT_SERVICE: &str = <PaymentServiceServer<crate::payments::service::PaymentApi> as NamedService>::NAME;

/// The names to report: the server, and the gRPC services of the services
/// this process runs (the notifications service has no gRPC API).
pub fn service_names(orders: bool, payments: bool) -> &'static [&'static str] {
    match (orders, payments) {
        (true, true) => &SERVICE_NAMES,
        (true, false) => &SERVICE_NAMES[..4],
        (false, true) => &["", PAYMENT_SERVICE],
        (false, false) => &SERVICE_NAMES[..1],
    }
}

/// Sets the status of the server and of every service in `names`.
pub async fn set_all(reporter: &HealthReporter, status: ServingStatus, names: &[&str]) {
    for &name in names {
        reporter.set_service_status(name, status).await;
    }
}

/// Ends every open `Watch` stream once it has delivered the last status:
/// dropping a service's status drops the channel its watchers listen on.
/// `Check` answers NOT_FOUND from then on, which no caller sees in practice:
/// the server stops taking new calls right after.
pub async fn end_watches(reporter: &mut HealthReporter, names: &[&str]) {
    for &name in names {
        reporter.clear_service_status(name).await;
    }
}

/// Probes the database once, reports the result, then keeps probing in a
/// background task, reporting each change. Awaited before the server
/// serves, so a hosted service is never reported as unknown. Abort the
/// returned task to stop it.
pub async fn start_monitor(
    reporter: HealthReporter,
    pool: Pool,
    interval: Duration,
    names: &'static [&'static str],
) -> tokio::task::JoinHandle<()> {
    let mut last = probe(&pool, interval).await;
    report(&reporter, last, names).await;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let up = probe(&pool, interval).await;
            if up != last {
                report(&reporter, up, names).await;
                last = up;
            }
        }
    })
}

/// The tasks that keep health up to date while the server serves, and
/// the names they report.
pub struct Monitors {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    names: Vec<&'static str>,
}

impl Monitors {
    /// Starts the database probe for `names` ([`start_monitor`]) and, when
    /// given the JWKS URL's reachability, [`KEY_SOURCE`]; both report
    /// before this returns.
    pub async fn start(
        reporter: &HealthReporter,
        pool: Pool,
        interval: Duration,
        names: &'static [&'static str],
        key_source: Option<watch::Receiver<bool>>,
    ) -> Monitors {
        let mut tasks = vec![start_monitor(reporter.clone(), pool, interval, names).await];
        let mut names = names.to_vec();
        if let Some(reachable) = key_source {
            tasks.push(follow_key_source(reporter.clone(), reachable).await);
            names.push(KEY_SOURCE);
        }
        Monitors { tasks, names }
    }

    /// Stops reporting changes (shutdown has begun, or the server failed).
    pub fn stop(&self) {
        self.tasks.iter().for_each(tokio::task::JoinHandle::abort);
    }

    /// Reports NOT_SERVING for every name, then ends their watches.
    pub async fn shut_down(&self, reporter: &mut HealthReporter) {
        set_all(reporter, ServingStatus::NotServing, &self.names).await;
        end_watches(reporter, &self.names).await;
    }
}

/// Reports the JWKS URL's reachability as [`KEY_SOURCE`] now, then keeps
/// reporting each change in a background task.
async fn follow_key_source(
    reporter: HealthReporter,
    mut reachable: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    // The metric `orders_auth_key_source_up` says the same, for alerts.
    let status = |up: bool| {
        metrics::gauge!(KEY_SOURCE_UP).set(if up { 1.0 } else { 0.0 });
        if up {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        }
    };
    let now = *reachable.borrow_and_update();
    reporter.set_service_status(KEY_SOURCE, status(now)).await;
    tokio::spawn(async move {
        while reachable.changed().await.is_ok() {
            let up = *reachable.borrow_and_update();
            reporter.set_service_status(KEY_SOURCE, status(up)).await;
        }
    })
}

/// True when the database answers; a probe that hangs (server gone without
/// a reset) counts as down.
async fn probe(pool: &Pool, interval: Duration) -> bool {
    tokio::time::timeout(interval.max(Duration::from_secs(1)), ping(pool)).await == Ok(true)
}

async fn report(reporter: &HealthReporter, up: bool, names: &[&str]) {
    if up {
        tracing::info!("database reachable: reporting SERVING");
        set_all(reporter, ServingStatus::Serving, names).await;
    } else {
        tracing::warn!("database unreachable: reporting NOT_SERVING");
        set_all(reporter, ServingStatus::NotServing, names).await;
    }
}
