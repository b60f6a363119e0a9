//! Every metric the backend serves, with its type and help text: the names
//! the code records under (constants, so a typo does not compile) and the
//! list `/metrics` describes. The README's metrics table is checked
//! against this list (`tests/api/metrics.rs`), and the dashboard and the
//! alerts in `deploy/` against the README.

/// A Prometheus metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric: name, type, help.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

macro_rules! catalogue {
    ($($constant:ident = $name:literal, $kind:ident, $help:literal;)+) => {
        $(pub const $constant: &str = $name;)+

        /// Every metric of the backend, except the process metrics of
        /// `metrics-process` (`process_*`), which describe themselves.
        pub const ALL: &[Metric] = &[$(Metric { name: $name, kind: Kind::$kind, help: $help }),+];
    };
}

catalogue! {
    SERVER_STARTED = "grpc_server_started_total", Counter, "Total number of RPCs started on the server.";
    SERVER_HANDLED = "grpc_server_handled_total", Counter, "Total number of RPCs completed on the server, regardless of success or failure.";
    SERVER_HANDLING_SECONDS = "grpc_server_handling_seconds", Histogram, "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.";
    SERVER_MSG_RECEIVED = "grpc_server_msg_received_total", Counter, "Total number of RPC stream messages received on the server.";
    SERVER_MSG_SENT = "grpc_server_msg_sent_total", Counter, "Total number of gRPC stream messages sent by the server.";
    CLIENT_STARTED = "grpc_client_started_total", Counter, "Total number of RPCs started on the client.";
    CLIENT_HANDLED = "grpc_client_handled_total", Counter, "Total number of RPCs completed by the client, regardless of success or failure.";
    CLIENT_HANDLING_SECONDS = "grpc_client_handling_seconds", Histogram, "Histogram of response latency (seconds) of the gRPC until it is finished by the application.";
    CLIENT_MSG_RECEIVED = "grpc_client_msg_received_total", Counter, "Total number of RPC stream messages received by the client.";
    CLIENT_MSG_SENT = "grpc_client_msg_sent_total", Counter, "Total number of gRPC stream messages sent by the client.";
    POOL_MAX = "orders_db_pool_max_connections", Gauge, "The most connections the service's database pool may open.";
    POOL_OPEN = "orders_db_pool_connections", Gauge, "Connections the service's database pool has open.";
    POOL_IN_USE = "orders_db_pool_in_use_connections", Gauge, "Connections checked out of the service's database pool.";
    POOL_WAITERS = "orders_db_pool_waiters", Gauge, "Calls waiting for a connection of the service's database pool.";
    POOL_ACQUIRE_SECONDS = "orders_db_pool_acquire_seconds", Histogram, "Time to check a connection out of the pool.";
    STATEMENT_SECONDS = "orders_db_statement_seconds", Histogram, "Time of one unit of database work, by operation.";
    DATABASE_UP = "orders_database_up", Gauge, "1 while the service's health probe reaches its database, else 0.";
    ORDER_STATE_CHANGES = "orders_order_state_changes_total", Counter, "Orders that entered a state (placed, paid, cancelled, shipped).";
    SAGA_STEPS = "orders_payment_saga_steps_total", Counter, "Steps of the payment saga recorded on orders (authorized, paid, declined, timed_out, released, refunded).";
    STOCKOUTS = "orders_stockouts_total", Counter, "CreateOrder calls refused for insufficient stock.";
    PAYMENT_MOVEMENTS = "orders_payment_movements_total", Counter, "Payment ledger entries recorded, by outcome (authorized, declined, captured, cancelled, refunded).";
    IDEMPOTENT_REPLAYS = "orders_idempotent_replays_total", Counter, "Requests answered with the stored response of their request_id.";
    RATE_LIMITED = "orders_rate_limited_calls_total", Counter, "Calls refused by a limit, by reason.";
    UNAUTHENTICATED = "orders_unauthenticated_calls_total", Counter, "Calls refused for their credentials, by reason.";
    OUTBOX_PENDING = "orders_outbox_pending_events", Gauge, "Events committed and not yet published.";
    OUTBOX_OLDEST_AGE = "orders_outbox_oldest_pending_age_seconds", Gauge, "Age of the oldest event not yet published (0 when none).";
    OUTBOX_PUBLISHED = "orders_outbox_published_total", Counter, "Events published and acknowledged by JetStream.";
    OUTBOX_LAG_SECONDS = "orders_outbox_publish_lag_seconds", Histogram, "Time from an event's time to JetStream's acknowledgement.";
    REDELIVERIES = "orders_jetstream_redeliveries_total", Counter, "Messages a consumer received more than once.";
    JOBS = "orders_jobs", Gauge, "Jobs in the queue, by kind and state.";
    JOBS_FINISHED = "orders_jobs_finished_total", Counter, "Job runs, by kind and outcome (succeeded, retried, failed).";
    EMAILS = "orders_emails_total", Counter, "Emails sent or failed for good.";
    KEY_SOURCE_UP = "orders_auth_key_source_up", Gauge, "1 while the JWKS URL answers (or none is configured), else 0.";
    BUILD_INFO = "orders_build_info", Gauge, "Always 1: the build's version and git revision.";
}
