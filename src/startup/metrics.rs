//! The `/metrics` endpoint of a process: bound while the process is built
//! (an address in use fails the start, as the gRPC port does), with the
//! scrape hooks of the services it runs.

use super::{StartupError, orders::OrdersService, scrape_hooks as hooks};
use crate::{
    config::Settings,
    monitoring::{Scrape, catalogue::KEY_SOURCE_UP, endpoint::Endpoint},
    notifications::Notifications,
};

/// The endpoint, bound, or `None` when `--metrics-addr` is empty.
pub(super) async fn bind(
    settings: &Settings,
    orders: Option<&OrdersService>,
    notifications: Option<&Notifications>,
) -> Result<Option<Endpoint>, StartupError> {
    let Some(addr) = settings.metrics.metrics_addr.0 else {
        return Ok(None);
    };
    let mut scrape_hooks = Vec::new();
    if let Some(orders) = orders {
        let pool = &orders.state.pool;
        scrape_hooks.push(hooks::pool("orders", pool.clone()));
        scrape_hooks.push(hooks::jobs("orders", pool.clone()));
        scrape_hooks.push(hooks::outbox(pool.clone()));
    }
    if let Some(notifications) = notifications {
        scrape_hooks.push(hooks::pool("notifications", notifications.pool.clone()));
        scrape_hooks.push(hooks::jobs("notifications", notifications.pool.clone()));
    }
    let scrape = Scrape::new(scrape_hooks).map_err(StartupError::Metrics)?;
    // Up unless a JWKS URL is configured and unreachable: the health
    // monitor of the key source sets it from then on.
    metrics::gauge!(KEY_SOURCE_UP).set(1.0);
    let endpoint = Endpoint::bind(addr, scrape)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    tracing::info!(addr = %endpoint.local_addr(), "serving metrics at /metrics");
    Ok(Some(endpoint))
}
