//! `grpc.health.v1.Health` for the server ("") and each service.
//!
//! Everything is SERVING while the database answers, NOT_SERVING while it
//! does not (a background probe checks every `--health-check-interval`), and
//! NOT_SERVING for good once shutdown starts, so load balancers stop sending
//! before the server drains. Open `Watch` streams then see NOT_SERVING and
//! end ([`end_watches`]): left open, each would hold the drain until its
//! timeout, as the server waits for every call in flight.

use std::time::Duration;

use tonic::server::NamedService;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    db::{Pool, pool::ping},
    proto::{
        audit_service_server::AuditServiceServer, catalog_service_server::CatalogServiceServer,
        order_service_server::OrderServiceServer,
    },
    service::{audit::AuditApi, catalog::CatalogApi, orders::OrderApi},
};

/// The service names health is reported for; "" is the whole server.
const SERVICE_NAMES: [&str; 4] = [
    "",
    <OrderServiceServer<OrderApi> as NamedService>::NAME,
    <CatalogServiceServer<CatalogApi> as NamedService>::NAME,
    <AuditServiceServer<AuditApi> as NamedService>::NAME,
];

/// The names to report: the server, and the gRPC services when this process
/// runs the orders service (the notifications service has no gRPC API).
pub fn service_names(orders: bool) -> &'static [&'static str] {
    if orders { &SERVICE_NAMES } else { &SERVICE_NAMES[..1] }
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
