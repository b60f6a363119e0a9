//! `grpc.health.v1.Health` for the server ("") and each service.
//!
//! Everything is SERVING while the database answers, NOT_SERVING while it
//! does not (a background probe checks every `--health-check-interval`), and
//! NOT_SERVING for good once shutdown starts, so load balancers stop sending
//! before the server drains.

use std::time::Duration;

use tonic::server::NamedService;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    db::{Pool, pool::ping},
    proto::{catalog_service_server::CatalogServiceServer, order_service_server::OrderServiceServer},
    service::{catalog::CatalogApi, orders::OrderApi},
};

/// The service names health is reported for; "" is the whole server.
pub const SERVICE_NAMES: [&str; 3] = [
    "",
    <OrderServiceServer<OrderApi> as NamedService>::NAME,
    <CatalogServiceServer<CatalogApi> as NamedService>::NAME,
];

/// Sets the status of the server and of every service.
pub async fn set_all(reporter: &HealthReporter, status: ServingStatus) {
    for name in SERVICE_NAMES {
        reporter.set_service_status(name, status).await;
    }
}

/// Probes the database forever, reporting each change of status. Abort the
/// task to stop it.
pub fn spawn_monitor(reporter: HealthReporter, pool: Pool, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = None;
        loop {
            // A probe that hangs (server gone without a reset) counts as down.
            let up = tokio::time::timeout(interval.max(Duration::from_secs(1)), ping(&pool)).await == Ok(true);
            if last != Some(up) {
                if up {
                    tracing::info!("database reachable: reporting SERVING");
                } else {
                    tracing::warn!("database unreachable: reporting NOT_SERVING");
                }
                let status = if up {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                };
                set_all(&reporter, status).await;
                last = Some(up);
            }
            tokio::time::sleep(interval).await;
        }
    })
}
