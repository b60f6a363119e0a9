//! The orders service: a product catalog and the order lifecycle (place,
//! look up, list, cancel, ship) over gRPC, stored in PostgreSQL.
//!
//! The crate is layered so that each layer can be read on its own:
//!
//! * [`proto`]: the code generated from `proto/orders/v1/*.proto`.
//! * [`domain`]: validated types (requests parsed into commands that cannot
//!   hold invalid values), money arithmetic, the order state machine and the
//!   page-token format. No I/O.
//! * [`db`]: the PostgreSQL schema, connection pool, migrations and one query
//!   module per table.
//! * [`auth`]: who is calling (bearer tokens) and what each role may do.
//! * [`service`]: the gRPC services, thin: parse → domain/db → map to proto.
//! * [`middleware`]: tower layers wrapped around every call (log line,
//!   authentication, rate limit, global concurrency limit, deadline).
//! * [`tls`]: TLS and mutual TLS for the server.
//! * [`startup`]: builds the whole application from [`config::Settings`] and
//!   runs it until a shutdown signal.

pub mod actions;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod middleware;
pub mod proto;
pub mod service;
pub mod startup;
pub mod telemetry;
pub mod tls;
