//! A job queue in PostgreSQL, for every service in its own database: work
//! done after the transaction that asked for it, and again until it
//! succeeds (sending an email, purging old rows).
//!
//! Why a queue in the service's database: a job is enqueued inside the
//! transaction of the change that needs it ([`queue::enqueue`] takes the
//! caller's connection), so a committed change always has its job and a
//! rolled-back one never does; a separate broker could only approximate
//! that with an outbox of its own.
//!
//! Why our own and not a crate: the Rust port of graphile_worker and
//! apalis-postgres both run their workers on an sqlx pool, a second
//! PostgreSQL driver, pool and migration system beside diesel-async, and
//! their enqueue does not join a diesel transaction. What we need is a few
//! hundred lines on the pool we already have.
//!
//! The rooms:
//! * [`queue`]: the SQL (enqueue, claim, record a result, list, retry,
//!   clean up), on the `jobs` table of migration `2026-12-02-000005_jobs`;
//!   the same table in every service's database, so the queries use
//!   [`crate::db::schema::jobs`] whichever database the connection is to.
//! * [`worker`]: claims due jobs, runs their handlers concurrently, records
//!   each result (retry with [`backoff`], or fail), and sleeps until a
//!   `NOTIFY` on [`CHANNEL`], the next due job or the next period.
//! * [`periodic`]: jobs enqueued once per period across all processes.
//! * [`cleanup`]: the queue's own periodic job, deleting old succeeded jobs.
//!
//! Guarantees: a job runs **at least once** while it has attempts left.
//! A worker that dies mid-job loses its lease ([`worker::Worker::lease`])
//! and another worker runs the job again, so handlers must be idempotent.
//! A result recorded after the lease was lost is ignored.

pub mod backoff;
pub mod cleanup;
pub mod periodic;
pub mod purge;
pub mod queue;
pub mod worker;

pub use backoff::Backoff;
pub use periodic::Periodic;
pub use queue::{JobRow, JobState, NewJob};
pub use worker::{Job, JobError, Worker};

/// The channel the `jobs` insert trigger `NOTIFY`s when jobs commit.
pub const CHANNEL: &str = "jobs";
