//! What the job tests share: a database of their own, a worker running in
//! a task until stopped, timings short enough for a test, and the stored
//! state of a job.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use diesel_async::SimpleAsyncConnection;
use futures_util::FutureExt;
use orders::{
    db::{Pool, connect_pool},
    jobs::{Backoff, Job, JobError, JobRow, JobState, NewJob, Worker, queue},
};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::{app::test_settings, direct_sql::query_n_on, test_database::TestDatabase, timing::within};

pub const MS: Duration = Duration::from_millis(1);

/// A fresh, migrated database with no server on it: a server runs the
/// orders service's own job worker, which would claim the tests' jobs
/// (failing the kinds it has no handler for) and run its purges with the
/// default retentions. Here the only workers are the test's.
pub struct JobsDb {
    pub pool: Pool,
    pub url: String,
    // Last: dropped after the pool.
    _database: TestDatabase,
}

impl JobsDb {
    pub async fn create() -> JobsDb {
        let database = TestDatabase::create().await;
        let settings = test_settings(&database.url);
        let pool = connect_pool(&database.url, &settings.database).expect("a pool");
        let url = database.url.clone();
        JobsDb {
            pool,
            url,
            _database: database,
        }
    }

    /// Runs raw SQL.
    pub async fn execute(&self, sql: &str) {
        let mut conn = self.pool.get().await.unwrap();
        conn.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The bigint column `n` of the one row `sql` returns.
    pub async fn query_n(&self, sql: &str) -> i64 {
        query_n_on(&mut self.pool.get().await.unwrap(), sql).await
    }
}

/// A worker on `db` with test timings: polls every 50 ms, retries after
/// 10 ms doubling to 100 ms.
pub fn test_worker(db: &JobsDb) -> Worker {
    let mut worker = Worker::new("test", db.pool.clone(), db.url.clone().into());
    worker.poll_interval = 50 * MS;
    worker.retry = Backoff::new(10 * MS, 100 * MS);
    worker
}

/// A worker running in a task of its own.
pub struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    pub fn start(worker: Worker) -> Running {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(worker.run(stopped.map(drop)));
        Running { stop, task }
    }

    /// Shuts the worker down and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        within(10, self.task).await.expect("the worker does not panic");
    }
}

/// Every attempt a handler was called for, in order.
pub type Calls = Arc<Mutex<Vec<(Job, tokio::time::Instant)>>>;

/// A handler that records each attempt in `calls` and answers what
/// `outcome` says for the attempt's number (1 for the first call).
pub fn recording(
    calls: &Calls,
    outcome: impl Fn(usize) -> Result<(), JobError> + Send + Sync + 'static,
) -> impl Fn(Job) -> futures_util::future::BoxFuture<'static, Result<(), JobError>> + Send + Sync + 'static {
    let calls = calls.clone();
    move |job| {
        let mut calls = calls.lock().unwrap();
        calls.push((job, tokio::time::Instant::now()));
        let result = outcome(calls.len());
        async move { result }.boxed()
    }
}

/// Enqueues `job` outside any transaction; returns its id.
pub async fn enqueue(db: &JobsDb, job: NewJob) -> i64 {
    let mut conn = db.pool.get().await.unwrap();
    queue::enqueue(&mut conn, &job)
        .await
        .unwrap()
        .expect("no job had its unique key")
}

/// Every stored job, newest first.
pub async fn all_jobs(db: &JobsDb) -> Vec<JobRow> {
    let mut conn = db.pool.get().await.unwrap();
    queue::list(&mut conn, None, 1000).await.unwrap()
}

/// The stored job `id`.
pub async fn job(db: &JobsDb, id: i64) -> JobRow {
    let jobs = all_jobs(db).await;
    jobs.into_iter()
        .find(|job| job.id == id)
        .unwrap_or_else(|| panic!("no job {id}"))
}

/// Waits (up to 10 s) until job `id` is in `state`, and returns it.
pub async fn wait_for_state(db: &JobsDb, id: i64, state: JobState) -> JobRow {
    wait_for_job(db, |job| job.id == id && job.state == state).await
}

/// Waits (up to 10 s) until a job of `kind` has succeeded, and returns it.
pub async fn wait_until_succeeded(db: &JobsDb, kind: &str) -> JobRow {
    wait_for_job(db, |job| job.kind == kind && job.state == JobState::Succeeded).await
}

async fn wait_for_job(db: &JobsDb, wanted: impl Fn(&JobRow) -> bool) -> JobRow {
    let waiting = async {
        loop {
            if let Some(job) = all_jobs(db).await.into_iter().find(&wanted) {
                return job;
            }
            tokio::time::sleep(20 * MS).await;
        }
    };
    within(10, waiting).await
}
