//! The worker: runs the jobs of one database's queue with the handlers
//! registered for their kinds.
//!
//! It keeps up to [`Worker::concurrency`] jobs running: whenever a slot is
//! free it enqueues the periodic jobs whose period began and claims due
//! jobs for the free slots, each run in a task of its own (so a panic fails
//! one attempt, not the worker) and recorded when it ends. With slots left
//! and nothing due, it sleeps until a `NOTIFY` on [`super::CHANNEL`] (a job
//! committed), the next job is due (a retry, a lease running out), the next
//! period begins, or [`Worker::poll_interval`] (a safety net for a missed
//! notification).
//!
//! While the database is unreachable the worker retries with backoff; jobs
//! wait in the table meanwhile. On shutdown it claims nothing more, and the
//! jobs that have begun are finished and recorded first.

use std::{collections::HashMap, future::Future, pin::pin, sync::Arc, time::Duration};

use tokio::task::JoinSet;

use chrono::{DateTime, TimeDelta, Utc};
use diesel_async::AsyncPgConnection;
use futures_util::future::BoxFuture;
use tracing::{debug, info, warn};

use super::{
    Backoff, CHANNEL,
    periodic::{Periodic, Schedule},
    queue::{self, JobRow},
};
use crate::{
    config::SecretUrl,
    db::{Pool, listener::Listener},
    monitoring::catalogue::JOBS_FINISHED,
};

/// One attempt at a job, as its handler sees it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    /// 1 for the first attempt.
    pub attempt: i32,
}

/// Why an attempt failed, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Try again later (with backoff), while attempts are left.
    #[error("{0}")]
    Retry(String),
    /// Trying again cannot help: the job fails now.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// A [`JobError::Retry`] for `error`: for failures that may pass (the
    /// database, the network), as `.map_err(JobError::retry)`.
    pub fn retry(error: impl std::fmt::Display) -> JobError {
        JobError::Retry(error.to_string())
    }
}

/// What runs the jobs of one kind.
pub type Handler = Arc<dyn Fn(Job) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// How the worker waits after losing the database (or its listening connection).
const OUTAGE_BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));

/// Why the worker lost its footing; it reconnects after a backoff.
#[derive(Debug, thiserror::Error)]
enum WorkerError {
    #[error("database: {0}")]
    Database(String),
    #[error("the listening connection ended: {0}")]
    Listener(String),
}

impl From<diesel::result::Error> for WorkerError {
    fn from(error: diesel::result::Error) -> Self {
        WorkerError::Database(error.to_string())
    }
}

/// The worker of one database's queue; build it with [`Worker::new`] and
/// [`Worker::handler`], adjust the public fields, then [`Worker::run`] it.
pub struct Worker {
    /// The service whose queue this is, for the metrics.
    service: &'static str,
    pool: Pool,
    database_url: SecretUrl,
    handlers: HashMap<String, Handler>,
    schedule: Schedule,
    /// The most jobs run at once.
    pub concurrency: usize,
    /// How long a claimed job is its worker's; a job running longer may be
    /// claimed and run again by another worker.
    pub lease: Duration,
    /// The longest sleep when nothing wakes the worker.
    pub poll_interval: Duration,
    /// The delays between a job's attempts.
    pub retry: Backoff,
}

impl Worker {
    /// A worker on `pool`, listening on its own connection to `database_url`
    /// (the same database), with no handlers yet.
    pub fn new(service: &'static str, pool: Pool, database_url: SecretUrl) -> Worker {
        Worker {
            service,
            pool,
            database_url,
            handlers: HashMap::new(),
            schedule: Schedule::default(),
            concurrency: 4,
            lease: Duration::from_secs(300),
            poll_interval: Duration::from_secs(5),
            retry: Backoff::new(Duration::from_secs(1), Duration::from_secs(600)),
        }
    }

    /// Runs jobs of `kind` with `handler` (replacing any handler of `kind`).
    pub fn handler<F>(mut self, kind: impl Into<String>, handler: F) -> Worker
    where
        F: Fn(Job) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync + 'static,
    {
        self.handlers.insert(kind.into(), Arc::new(handler));
        self
    }

    /// Enqueues `periodic`'s job once per period; it needs a handler of
    /// its kind (in this worker or another on the same database).
    pub fn periodic(mut self, periodic: Periodic) -> Worker {
        self.schedule.add(periodic);
        self
    }

    /// Runs jobs until `shutdown` completes.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = pin!(shutdown);
        let mut kinds: Vec<&String> = self.handlers.keys().collect();
        kinds.sort();
        info!(?kinds, concurrency = self.concurrency, "job worker started");
        let mut failures = 0;
        while let Err(error) = self.work(&mut shutdown, &mut failures).await {
            failures += 1;
            let retry_in = OUTAGE_BACKOFF.delay(failures);
            warn!(%error, ?retry_in, "job worker interrupted; jobs wait in the table");
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(retry_in) => {}
            }
        }
        debug!("job worker stopped");
    }

    /// Connects, then keeps up to [`Worker::concurrency`] jobs running until
    /// `shutdown` (Ok) or a failure; claiming succeeds, resets `failures`.
    ///
    /// A job is claimed as soon as a slot is free, not once a whole batch
    /// has finished: one slow job (a payment service taking its time) holds
    /// back only its own slot, and a job that comes due meanwhile (a
    /// timeout) runs on time.
    async fn work(
        &mut self,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
        failures: &mut i32,
    ) -> Result<(), WorkerError> {
        let listener = tokio::select! {
            () = &mut *shutdown => return Ok(()),
            listener = Listener::connect(&self.database_url, "orders-jobs", CHANNEL) => listener,
        };
        let listener = listener.map_err(|e| WorkerError::Listener(e.to_string()))?;
        let mut lost = listener.lost;
        let runner = Runner {
            service: self.service,
            pool: self.pool.clone(),
            handlers: Arc::new(self.handlers.clone()),
            retry: self.retry,
        };
        let mut running = JoinSet::new();
        loop {
            let free = self.batch_size().saturating_sub(running.len());
            // With every slot taken, only a finished job (or a stop) matters.
            let mut idle = None;
            if free > 0 {
                let claimed = self.claim(free).await?;
                *failures = 0;
                let full = claimed.len() == free;
                for row in claimed {
                    running.spawn(runner.clone().attempt(row));
                }
                if !full {
                    idle = Some(self.idle_time().await?);
                }
            }
            tokio::select! {
                () = &mut *shutdown => return finish(running).await,
                () = listener.wake.notified(), if free > 0 => {}
                () = tokio::time::sleep(idle.unwrap_or_default()), if idle.is_some() => {}
                Some(done) = running.join_next(), if !running.is_empty() => {
                    done.map_err(|e| WorkerError::Database(format!("a job's task failed: {e}")))??;
                }
                _ = &mut lost => {
                    finish(running).await?;
                    return Err(WorkerError::Listener("closed".into()));
                }
            }
        }
    }

    /// Enqueues due periodic jobs, then claims up to `limit` due jobs.
    async fn claim(&mut self, limit: usize) -> Result<Vec<JobRow>, WorkerError> {
        let mut conn = self.connection().await?;
        self.schedule.enqueue_due(&mut conn, Utc::now()).await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let kinds: Vec<String> = self.handlers.keys().cloned().collect();
        Ok(queue::claim(&mut conn, &kinds, limit, self.lease).await?)
    }
    /// The pool it runs on, for handlers that need the same database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The most jobs running at once: [`Worker::concurrency`], at least one.
    fn batch_size(&self) -> usize {
        self.concurrency.max(1)
    }

    /// How long to sleep when no notification comes.
    async fn idle_time(&self) -> Result<Duration, WorkerError> {
        let mut conn = connection(&self.pool).await?;
        let next_job = queue::next_due_in(&mut conn).await?;
        let next_period = self.schedule.next_period_in(Utc::now());
        let soonest = [next_job, next_period].into_iter().flatten().min();
        Ok(soonest.map_or(self.poll_interval, |due| due.min(self.poll_interval)))
    }

    async fn connection(&self) -> Result<PooledConnection, WorkerError> {
        connection(&self.pool).await
    }
}

/// Waits for the running jobs to finish and be recorded (a stop lets the
/// jobs that have begun end first).
async fn finish(mut running: JoinSet<Result<(), WorkerError>>) -> Result<(), WorkerError> {
    let mut result = Ok(());
    while let Some(done) = running.join_next().await {
        if let Ok(Err(error)) = done {
            result = Err(error);
        }
    }
    result
}

type PooledConnection = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

async fn connection(pool: &Pool) -> Result<PooledConnection, WorkerError> {
    pool.get().await.map_err(|e| WorkerError::Database(e.to_string()))
}

/// What a job's task needs to run it and record the outcome.
#[derive(Clone)]
struct Runner {
    service: &'static str,
    pool: Pool,
    handlers: Arc<HashMap<String, Handler>>,
    retry: Backoff,
}

impl Runner {
    /// Runs one claimed job and records how it went.
    async fn attempt(self, row: JobRow) -> Result<(), WorkerError> {
        let outcome = self.execute(&row).await;
        let mut conn = connection(&self.pool).await?;
        self.record(&mut conn, &row, outcome).await
    }

    /// The handler's verdict on one attempt, without running it when it cannot succeed.
    async fn execute(&self, row: &JobRow) -> Result<(), JobError> {
        if row.attempts > row.max_attempts {
            let error = "the worker running its last attempt stopped before it finished (the lease ran out)";
            return Err(JobError::Permanent(error.to_owned()));
        }
        let Some(handler) = self.handlers.get(&row.kind) else {
            return Err(JobError::Permanent(format!(
                "no handler for jobs of kind {:?}",
                row.kind
            )));
        };
        let job = Job {
            id: row.id,
            kind: row.kind.clone(),
            payload: row.payload.clone(),
            attempt: row.attempts,
        };
        match tokio::spawn(handler(job)).await {
            Ok(outcome) => outcome,
            Err(error) => Err(JobError::Retry(format!("the handler panicked: {error}"))),
        }
    }

    /// Records `outcome`: done, again after the backoff, or failed for good.
    async fn record(
        &self,
        conn: &mut AsyncPgConnection,
        row: &JobRow,
        outcome: Result<(), JobError>,
    ) -> Result<(), WorkerError> {
        let (id, kind, attempt) = (row.id, &row.kind, row.attempts);
        let (still_held, counted) = match outcome {
            Ok(()) => {
                debug!(id, kind, attempt, "job succeeded");
                (queue::succeed(conn, id, attempt).await?, "succeeded")
            }
            Err(JobError::Retry(error)) if attempt < row.max_attempts => {
                let retry_in = self.retry.delay(attempt);
                warn!(id, kind, attempt, %error, ?retry_in, "job failed; it will be retried");
                let run_at = from_now(retry_in);
                (queue::retry_later(conn, id, attempt, &error, run_at).await?, "retried")
            }
            Err(JobError::Retry(error) | JobError::Permanent(error)) => {
                warn!(id, kind, attempt, %error, "job failed for good");
                (queue::fail(conn, id, attempt, &error).await?, "failed")
            }
        };
        if still_held {
            let labels = [
                ("service", self.service.to_owned()),
                ("kind", kind.clone()),
                ("outcome", counted.to_owned()),
            ];
            metrics::counter!(JOBS_FINISHED, &labels).increment(1);
        }
        if !still_held {
            warn!(
                id,
                kind, attempt, "result ignored: the lease ran out and the job was claimed again"
            );
        }
        Ok(())
    }
}

/// The time `delay` from now (the end of time, for a delay too long to add).
fn from_now(delay: Duration) -> DateTime<Utc> {
    let later = TimeDelta::from_std(delay)
        .ok()
        .and_then(|delay| Utc::now().checked_add_signed(delay));
    later.unwrap_or(DateTime::<Utc>::MAX_UTC)
}
