//! The shop backend: the orders service (a product catalog and the order
//! lifecycle over gRPC, stored in PostgreSQL), the payment service (money
//! for orders, with an append-only ledger) and the notifications service
//! (emails about orders, from its events), in one binary; `--services` says
//! which a process runs.
//!
//! # The map
//!
//! Rooms from the outside in; each uses only rooms further down the list,
//! never one above it (the last ones are shared by all).
//!
//! * [`startup`]: builds a process from [`config::Settings`] (finds the
//!   databases, migrates, binds the port; the services of `--services`) and
//!   serves until shutdown; `orders jobs`.
//! * [`doctor`]: `orders doctor`, every dependency of the configured
//!   services checked without changing anything, one line each.
//! * [`notifications`]: the notifications service, a tree of its own with
//!   the same shape (consumer → actions → mail, db); it shares only the
//!   infrastructure below (config, db pool, events, jobs) with the rest.
//! * [`payments`]: the payment service, a tree of its own with the same
//!   shape (service → actions → processor, db → domain) and its own
//!   database; its ledger is its outbox, relayed by [`relay`].
//! * [`web`]: the storefront and warehouse pages (built from `clients/web`,
//!   embedded), `/config.json` and the development sign-in; one more
//!   client of the gRPC API, which it calls with gRPC-Web.
//! * [`relay`]: the outbox relay (the orders service's audit rows, the
//!   payment ledger → JetStream), one implementation for every outbox.
//! * [`telemetry`]: the log subscriber (with the traces' layer).
//! * [`tls`]: TLS and mutual TLS for the server.
//! * [`http_server`]: the small HTTP/1.1 server of the side doors
//!   (`/metrics`, the web pages).
//! * [`middleware`]: the tower layers around every call: CORS and gRPC-Web
//!   for browsers, the log line,
//!   request id and SERVER span, authentication, the per-caller rate limit, the global
//!   concurrency limit, the deadline, honest codes for undecodable bodies.
//! * [`service`]: the gRPC services, thin: parse the request, run the
//!   action, answer; and health.
//! * [`actions`]: the unit of work behind each RPC, on the database within
//!   the call's deadline ([`actions::Call`]), detached from the caller and
//!   run again after a conflict ([`actions::detached()`]); the catalog cache;
//!   rows to messages ([`actions::to_proto`]); the payment saga's jobs
//!   ([`actions::saga`]), which call the payment service over gRPC and move
//!   orders to PAID or CANCELLED.
//! * [`auth`]: who is calling (bearer tokens, keys) and what each role may
//!   do (the access table); the [`auth::Caller`] an action acts for.
//! * [`db`]: the schema (generated), the pool, migrations, one query module
//!   per table, CreateOrder's one statement, product search, idempotency
//!   keys, the audit trail (written, and read for auditors), the outbox, and the launcher that finds or starts a PostgreSQL
//!   when none is configured.
//! * [`domain`]: requests parsed into types that cannot hold invalid values,
//!   money, pricing, product changes and their etags, search queries, audit
//!   actions and filters, the order state machine, page tokens. No I/O.
//! * [`events`]: connecting to NATS JetStream (or finding or starting a
//!   local one) and the stream of a deployment's events.
//! * [`jobs`]: the PostgreSQL job queue every service runs in its own
//!   database.
//! * [`monitoring`]: Prometheus metrics, shared by every service: the
//!   catalogue of names, the gRPC call metrics, the counts of what
//!   happens, and the `/metrics` endpoint with its scrape hooks.
//! * [`traces`]: OpenTelemetry traces: the OTLP export, the W3C context
//!   carried through gRPC metadata, outbox rows, NATS headers and jobs, and
//!   the spans by the semantic conventions (RPC, database, messaging).
//! * [`config`]: every setting, from flags or the environment.
//! * [`error`]: [`error::ApiError`], the one error type, its mapping to a
//!   gRPC status with rich details, and the classification of database errors.
//! * [`proto`]: the code generated from `proto/orders/v1/*.proto`, the list
//!   of RPC methods, the names of status codes.
//! * [`pg_enum`](mod@pg_enum): Rust enums stored as text (order states, audit actions,
//!   placement outcomes).
//!
//! # One call, from the socket to the database and back: CreateOrder
//!
//! 1. `startup/mod.rs` bound the socket and `startup/router.rs` built the router: layers, then
//!    services. hyper reads the HTTP/2 request; tonic routes it by path.
//! 2. `middleware/log.rs` takes or makes the request id ([`actions::call::RequestId`])
//!    and, with traces on, opens the call's SERVER span (`traces/rpc.rs`);
//!    `middleware/auth.rs` has `auth/mod.rs`'s gate verify the token
//!    (`auth/token.rs`, `auth/keys.rs`) and check the method against the
//!    access table (`auth/policy.rs`, with the methods of `proto/method.rs`),
//!    leaving an [`auth::Caller`]; `middleware/rate_limit.rs` and
//!    `middleware/concurrency_limit.rs` refuse the excess at once;
//!    `middleware/deadline.rs` sets the [`actions::call::CallDeadline`].
//! 3. tonic decodes the `CreateOrderRequest` (`proto.rs`) and calls
//!    `service/orders.rs`: [`actions::Call::new`] collects caller, request id
//!    and deadline; `domain/order.rs` parses the request into a
//!    [`domain::order::NewOrder`] (with `domain/address.rs`,
//!    `domain/fields.rs`, `domain/violations.rs`); the caller must act for
//!    that customer; `db/idempotency.rs` turns the request into its key;
//!    `actions/detached.rs` runs the action in a task of its own.
//! 4. `actions/place.rs` prices the order from `actions/catalog_cache.rs`
//!    (`db/products.rs` on a miss) with `domain/pricing.rs` and
//!    `domain/money.rs`, renders the response (`actions/to_proto.rs`) and
//!    runs `db/place.rs`'s one statement on a pooled connection
//!    (`actions/call.rs`, `db/pool.rs`): the SQL function `place_order`
//!    (`migrations/…_place_order_function`) takes the stock, stores the
//!    order, its lines, the key and the audit row (which is also the
//!    `OrderPlaced` event, `actions/to_event.rs`), or changes nothing and
//!    says why ([`db::place::Outcome`]).
//! 5. Back up: the outcome becomes the response or an [`error::ApiError`];
//!    `error/mod.rs` turns an error into a status with an `ErrorInfo`;
//!    `middleware/deadline.rs` answers DEADLINE_EXCEEDED if the call ran
//!    out of time; `middleware/log.rs` echoes the request id and writes the
//!    call's log line when the status goes out.
//! 6. Later, beside the call: `relay.rs` (woken by the commit's `NOTIFY`)
//!    reads the event (`db/outbox.rs`) and publishes it (`events/`); the
//!    notifications service's `notifications/consumer.rs` receives it,
//!    `notifications/actions.rs` stores the email with a job
//!    (`jobs/queue.rs`), and `jobs/worker.rs` runs the job, which sends it
//!    (`notifications/mail/`). With traces on, each of these continues the
//!    call's trace: the audit row stores its context, the message's headers
//!    carry it, the job's payload too (`traces/`).
//! 7. With a `payment_method`, the same statement also stored the order's
//!    `order_payments` row and its saga's jobs; the orders worker runs
//!    `actions/saga/charge.rs`, which authorizes and captures through the
//!    payment service (`actions/saga/client.rs` → `payments/service.rs` →
//!    `payments/actions/`), and `actions/saga/steps.rs` moves the order to
//!    PAID under its row lock, with the `OrderPaid` event that brings the
//!    payment email.

/// What `orders --version` prints: the crate's version, the git revision and
/// the build date (both from `build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (rev ",
    env!("ORDERS_GIT_REVISION"),
    ", built ",
    env!("ORDERS_BUILD_DATE"),
    ")"
);

pub mod actions;
pub mod auth;
pub mod config;
pub mod db;
pub mod doctor;
pub mod domain;
pub mod error;
pub mod events;
pub mod http_server;
pub mod jobs;
pub mod middleware;
pub mod monitoring;
pub mod notifications;
pub mod payments;
pub mod pg_enum;
pub mod proto;
pub mod relay;
pub mod service;
pub mod startup;
pub mod telemetry;
pub mod tls;
pub mod traces;
pub mod web;
