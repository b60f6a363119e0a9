//! The job queue's SQL, on the `jobs` table (see migration
//! `2026-12-02-000005_jobs`).
//!
//! A job's life: `pending` until its `run_at`; `running` once a worker
//! claims it, with a lease (`locked_until`); then `succeeded`, `failed`, or
//! `pending` again with a later `run_at` (a retry). A running job whose
//! lease ran out is claimed again as if it were pending.
//!
//! The results are fenced by the attempt: [`succeed`], [`retry_later`] and
//! [`fail`] change the job only while it is still running the attempt the
//! caller claimed. A worker that comes back after its lease was lost (and
//! another worker claimed the job) is refused, and told so.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{
    dsl::now,
    pg::data_types::PgInterval,
    prelude::*,
    sql_types::{Array, BigInt, Interval, Nullable, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::jobs;

crate::pg_enum! {
    /// Where a job is in its life, as stored in `jobs.state`.
    pub enum JobState {
        /// Waiting for its `run_at`.
        Pending = "pending",
        /// Claimed by a worker, until its lease (`locked_until`) ends.
        Running = "running",
        Succeeded = "succeeded",
        /// Out of attempts, or failed permanently: waits for an operator.
        Failed = "failed",
    }
}

/// The attempts a job gets unless it says otherwise (the column's default).
pub const DEFAULT_ATTEMPTS: i32 = 10;

/// A job to enqueue; `None` fields take the table's defaults (due now, 10
/// attempts, no unique key).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = jobs, check_for_backend(diesel::pg::Pg))]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: Option<DateTime<Utc>>,
    pub max_attempts: Option<i32>,
    pub unique_key: Option<String>,
}

impl NewJob {
    /// A job of `kind` with `payload`, due now.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload,
            run_at: None,
            max_attempts: None,
            unique_key: None,
        }
    }

    pub fn run_at(self, run_at: DateTime<Utc>) -> NewJob {
        NewJob {
            run_at: Some(run_at),
            ..self
        }
    }

    pub fn max_attempts(self, max_attempts: i32) -> NewJob {
        NewJob {
            max_attempts: Some(max_attempts),
            ..self
        }
    }

    /// Enqueued only if no job ever had this key.
    pub fn unique_key(self, unique_key: impl Into<String>) -> NewJob {
        NewJob {
            unique_key: Some(unique_key.into()),
            ..self
        }
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = jobs, check_for_backend(diesel::pg::Pg))]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    /// Claims so far; the running attempt's number while running.
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub unique_key: Option<String>,
    pub create_time: DateTime<Utc>,
    pub finish_time: Option<DateTime<Utc>>,
}

/// Enqueues `job` on `conn`, inside the caller's transaction if one is
/// open (the job then exists only if that transaction commits). Returns its
/// id, or `None` when a job with its unique key exists already.
pub async fn enqueue(conn: &mut AsyncPgConnection, job: &NewJob) -> QueryResult<Option<i64>> {
    diesel::insert_into(jobs::table)
        .values(job)
        .on_conflict(jobs::unique_key)
        .do_nothing()
        .returning(jobs::id)
        .get_result(conn)
        .await
        .optional()
}

/// Takes up to `limit` due jobs of `kinds`, oldest due first, for `lease`:
/// only the kinds the worker has handlers for, so during a rolling deploy an
/// old worker leaves a new kind to the new ones. Pending jobs
/// whose `run_at` has come, and running ones whose lease ran out (their
/// worker died). Each is `running` with one more attempt when returned.
/// Jobs another worker is claiming at this moment are skipped, not waited for.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    kinds: &[String],
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<JobRow>> {
    // A running job's run_at has passed too (it was due when claimed), so
    // both kinds are one range of the due index.
    diesel::sql_query(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = now() + $2 \
         WHERE id IN ( \
             SELECT id FROM jobs \
             WHERE state IN ('pending', 'running') AND run_at <= now() \
               AND (state = 'pending' OR locked_until <= now()) AND kind = ANY ($3) \
             ORDER BY run_at LIMIT $1 \
             FOR UPDATE SKIP LOCKED) \
         RETURNING *",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Interval, _>(interval(lease))
    .bind::<Array<Text>, _>(kinds)
    .load(conn)
    .await
}

/// Records that attempt `attempt` of job `id` succeeded; false if that
/// attempt no longer holds the job (its lease ran out and it was claimed again).
pub async fn succeed(conn: &mut AsyncPgConnection, id: i64, attempt: i32) -> QueryResult<bool> {
    let changed = diesel::update(jobs::table)
        .filter(held_by(id, attempt))
        .set((
            jobs::state.eq(JobState::Succeeded),
            jobs::locked_until.eq(None::<DateTime<Utc>>),
            jobs::finish_time.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// Records that attempt `attempt` of job `id` failed with `error`, to be
/// tried again at `run_at`; false as for [`succeed`].
pub async fn retry_later(
    conn: &mut AsyncPgConnection,
    id: i64,
    attempt: i32,
    error: &str,
    run_at: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(jobs::table)
        .filter(held_by(id, attempt))
        .set((
            jobs::state.eq(JobState::Pending),
            jobs::locked_until.eq(None::<DateTime<Utc>>),
            jobs::last_error.eq(error),
            jobs::run_at.eq(run_at),
        ))
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// Records that job `id` failed for good in attempt `attempt`, with
/// `error`; false as for [`succeed`].
pub async fn fail(conn: &mut AsyncPgConnection, id: i64, attempt: i32, error: &str) -> QueryResult<bool> {
    let changed = diesel::update(jobs::table)
        .filter(held_by(id, attempt))
        .set((
            jobs::state.eq(JobState::Failed),
            jobs::locked_until.eq(None::<DateTime<Utc>>),
            jobs::last_error.eq(error),
            jobs::finish_time.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// Job `id` while attempt `attempt` of it is running.
#[diesel::dsl::auto_type]
fn held_by(id: i64, attempt: i32) -> _ {
    let running: JobState = JobState::Running;
    jobs::id
        .eq(id)
        .and(jobs::state.eq(running))
        .and(jobs::attempts.eq(attempt))
}

/// Up to `limit` jobs, newest first: all, or those in `state`.
pub async fn list(conn: &mut AsyncPgConnection, state: Option<JobState>, limit: i64) -> QueryResult<Vec<JobRow>> {
    let mut query = jobs::table
        .select(JobRow::as_select())
        .order(jobs::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(jobs::state.eq(state));
    }
    query.load(conn).await
}

/// How many jobs of each kind are in each state.
pub async fn counts(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, JobState, i64)>> {
    jobs::table
        .group_by((jobs::kind, jobs::state))
        .select((jobs::kind, jobs::state, diesel::dsl::count_star()))
        .load(conn)
        .await
}

/// Makes failed job `id` pending again, due now, with all its attempts
/// (for operators, once the cause is fixed); false if it is not failed.
/// Wakes the workers, as an insert would.
pub async fn retry_failed(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    let changed = diesel::update(jobs::table)
        .filter(jobs::id.eq(id).and(jobs::state.eq(JobState::Failed)))
        .set((
            jobs::state.eq(JobState::Pending),
            jobs::attempts.eq(0),
            jobs::run_at.eq(now),
            jobs::finish_time.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    if changed == 1 {
        diesel::sql_query("SELECT pg_notify($1, '')")
            .bind::<diesel::sql_types::Text, _>(super::CHANNEL)
            .execute(conn)
            .await?;
    }
    Ok(changed == 1)
}

/// Deletes the pending job with `unique_key`, inside the caller's
/// transaction: work that became needless (a paid order's timeout). A job
/// already running is left to finish; returns whether one was deleted.
pub async fn cancel_pending(conn: &mut AsyncPgConnection, unique_key: &str) -> QueryResult<bool> {
    let deleted = diesel::delete(jobs::table)
        .filter(jobs::unique_key.eq(unique_key))
        .filter(jobs::state.eq(JobState::Pending))
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}

/// Deletes the jobs that succeeded before `cutoff`; returns how many.
/// Failed jobs stay until an operator retries them (or deletes them).
pub async fn delete_finished_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(jobs::table)
        .filter(jobs::state.eq(JobState::Succeeded))
        .filter(jobs::finish_time.lt(cutoff))
        .execute(conn)
        .await
}

/// How long until the next job is due (a pending job's `run_at`, a running
/// one's lease end), by the database's clock; zero if one is due now,
/// `None` when there is no work at all.
pub async fn next_due_in(conn: &mut AsyncPgConnection) -> QueryResult<Option<Duration>> {
    #[derive(QueryableByName)]
    struct Millis {
        #[diesel(sql_type = Nullable<BigInt>)]
        ms: Option<i64>,
    }
    let next: Millis = diesel::sql_query(
        "SELECT ceil(extract(epoch FROM min(CASE state WHEN 'running' THEN locked_until ELSE run_at END) - now()) \
                     * 1000)::bigint AS ms \
         FROM jobs WHERE state IN ('pending', 'running')",
    )
    .get_result(conn)
    .await?;
    Ok(next.ms.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
}

fn interval(duration: Duration) -> PgInterval {
    PgInterval::from_microseconds(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX))
}
