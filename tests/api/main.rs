//! Integration tests: the real server in-process on port 0, each test with
//! its own fresh database, called through the generated tonic clients.
//!
//! One test binary (modules below) instead of one per file: linking is the
//! slow part of building tests.

mod helpers;
mod schema;

mod catalog;
mod history;
mod hostile;
mod lifecycle;
mod orders;
mod server;
mod support;

mod clients;
mod shutdown;
mod wire;
