//! Prometheus metrics: the process-wide recorder (`metrics` with
//! `metrics-exporter-prometheus`), what is measured where, and the
//! `/metrics` endpoint ([`endpoint`]).
//!
//! Events are counted where they happen, with the `metrics` crate's macros
//! and the names of [`catalogue`]: calls in the call log layer
//! ([`grpc`]), orders and replays in the actions, refusals in the layers
//! that refuse (authentication, the limits), the outbox in the relay, jobs
//! in the worker, emails and redeliveries in the notifications service. States that are cheaper to read than to track
//! (pool sizes, the outbox backlog, jobs by state, the process itself) are
//! read at each scrape by [`Scrape`]'s hooks, which the process gives it
//! for the services it runs (`startup/metrics.rs`).
//!
//! Without `--metrics-addr` no recorder is installed, and every macro is a
//! no-op. The recorder is global: several servers in one process (tests)
//! share it.

pub mod catalogue;
pub mod endpoint;
pub mod grpc;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::future::BoxFuture;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use catalogue::{Kind, Metric};

use crate::proto::Method;

/// Histogram buckets for durations, in seconds: 0.5 ms (a cached read) to
/// 10 s (the longest call the server allows by default).
const SECONDS_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How long one scrape hook may take before the scrape goes on without it.
const HOOK_TIMEOUT: Duration = Duration::from_secs(2);

/// Work done at each scrape to bring gauges up to date.
pub type Hook = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// Renders the exposition: runs the hooks, then the recorder's upkeep.
#[derive(Clone)]
pub struct Scrape {
    handle: PrometheusHandle,
    hooks: Vec<Hook>,
    process: Arc<metrics_process::Collector>,
}

impl Scrape {
    /// The metrics of this process, with `hooks` run before each rendering.
    pub fn new(hooks: Vec<Hook>) -> Result<Scrape, String> {
        // Described once the recorder is there to take the descriptions.
        let handle = recorder()?;
        let process = metrics_process::Collector::default();
        process.describe();
        Ok(Scrape {
            handle,
            hooks,
            process: Arc::new(process),
        })
    }

    /// The exposition in the Prometheus text format.
    pub async fn render(&self) -> String {
        let hooks = self.hooks.iter().map(|hook| tokio::time::timeout(HOOK_TIMEOUT, hook()));
        futures_util::future::join_all(hooks).await;
        self.process.collect();
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// Drains histogram samples into their buckets; run it now and then
    /// between scrapes, or samples pile up.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// The process's recorder, installed (and every metric described) on
/// first use.
fn recorder() -> Result<PrometheusHandle, String> {
    static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
    let mut installed = HANDLE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(handle) = &*installed {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| format!("could not install the metrics recorder: {e}"))?;
    catalogue::ALL.iter().for_each(describe);
    let revision = env!("ORDERS_GIT_REVISION");
    metrics::gauge!(catalogue::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION"), "revision" => revision).set(1.0);
    *installed = Some(handle.clone());
    Ok(handle)
}

fn describe(metric: &Metric) {
    match metric.kind {
        Kind::Counter => metrics::describe_counter!(metric.name, metric.help),
        Kind::Gauge => metrics::describe_gauge!(metric.name, metric.help),
        Kind::Histogram => metrics::describe_histogram!(metric.name, metric.help),
    }
}

/// Counts an order entering a state (`placed`, `cancelled`, `shipped`),
/// after the commit that moved it.
pub fn count_order_state(to_state: &'static str) {
    metrics::counter!(catalogue::ORDER_STATE_CHANGES, "to_state" => to_state).increment(1);
}

/// Counts a step of the payment saga (`authorized`, `paid`, `declined`,
/// `timed_out`, `released`, `refunded`), after the commit that recorded it.
pub fn count_saga_step(step: &'static str) {
    metrics::counter!(catalogue::SAGA_STEPS, "step" => step).increment(1);
}

/// Counts a call refused by a limit (`RATE_LIMITED`, …) or for its
/// credentials (`TOKEN_MISSING`, …): `limited` says which.
pub fn count_refusal(limited: bool, reason: &'static str) {
    let name = if limited {
        catalogue::RATE_LIMITED
    } else {
        catalogue::UNAUTHENTICATED
    };
    metrics::counter!(name, "reason" => reason).increment(1);
}

/// Counts a request answered from its idempotency key, under its RPC's
/// name: the first part of the key's `scope` (never the customer, which
/// would make a series per customer).
pub fn count_replay(scope: Option<&str>) {
    let rpc = scope.and_then(|scope| scope.split('/').next()).unwrap_or_default();
    let method = Method::ALL.into_iter().map(Method::name).find(|name| *name == rpc);
    metrics::counter!(catalogue::IDEMPOTENT_REPLAYS, "grpc_method" => method.unwrap_or("unknown")).increment(1);
}
