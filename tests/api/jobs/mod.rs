//! The job queue (`src/jobs`) on a real database, and the orders service's
//! first jobs.
//!
//! `enqueue.rs`: a job exists exactly when its transaction committed, a
//! unique key once; `attempts.rs`: retries with growing delays, running out
//! of attempts, permanent failures, unknown kinds, an operator's retry;
//! `periodic.rs`: one job per period with two workers; `leases.rs`: a job
//! whose worker died runs elsewhere; `maintenance.rs`: the purges delete
//! exactly what is past its retention. `support.rs` holds what they share,
//! among it the database they run on: one with no server, whose own job
//! worker would compete with the tests' workers.

mod attempts;
mod enqueue;
mod leases;
mod maintenance;
mod periodic;
mod support;
