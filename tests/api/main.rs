//! Integration tests: the real server in-process on port 0, each test with
//! its own fresh database, called through the generated tonic clients.
//!
//! One test binary (modules below) instead of one per file: linking is the
//! slow part of building tests.

mod helpers;
mod schema;

mod audit;
mod authn;
mod authz;
mod catalog;
mod certs;
mod concurrency;
mod conservation;
mod deadlines;
mod history;
mod hostile;
mod lifecycle;
mod orders;
mod overload;
mod ratelimit;
mod security;
mod server;
mod support;
mod tls;
mod tokens;

mod clients;
mod cluster;
mod faults;
mod load;
mod proxy;
mod shutdown;
mod wire;
