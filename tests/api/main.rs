//! Integration tests: the real server in-process on port 0, each test with
//! its own fresh database, called through the generated tonic clients.
//!
//! One test binary (modules below) instead of one per file: linking is the
//! slow part of building tests.

// The harness: no tests, only what the tests below are written with.
mod api_calls;
mod app;
mod assertions;
mod binary;
mod catalog_admin;
mod certs;
mod cluster;
mod direct_sql;
mod load;
mod local_machine;
mod nats;
mod proxy;
mod raw_calls;
mod requests;
mod shop;
mod smtp;
mod test_database;
mod timing;
mod tokens;

// The tests, one concern each.
mod alerts;
mod archiving;
mod audit;
mod audit_reading;
mod authn;
mod authz;
mod breaking_changes;
mod browser;
mod call_log;
mod catalog;
mod catalog_changes;
mod command_line;
mod concurrency;
mod conservation;
mod deadlines;
mod doctor;
mod events;
mod failed_auth;
mod faults;
mod history;
mod hostile;
mod jobs;
mod jobs_cli;
mod jwks_url;
mod key_rotation;
mod lifecycle;
mod metrics;
mod notifications;
mod orders;
mod overload;
mod payments;
mod price_changes;
mod python_client;
mod ratelimit;
mod readme_examples;
mod saga;
mod scaleout;
mod schema;
mod search;
mod security;
mod server;
mod shutdown;
mod stored_values;
mod tls;
mod traces;
mod typescript_client;
mod web;
mod wire;
