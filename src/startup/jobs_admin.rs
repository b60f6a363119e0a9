//! `orders jobs list|retry`: the operator's view of a service's job queue,
//! straight on that service's database (no server needs to run).

use std::fmt::Write;

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::{StartupError, database_url};
use crate::{
    config::{JobStateArg, JobsArgs, JobsCommand, ServiceName, Settings},
    jobs::{JobRow, JobState, queue},
};

/// Runs `orders jobs …` and returns what to print.
pub async fn run(settings: &Settings, args: &JobsArgs) -> Result<String, StartupError> {
    let mut conn = connect(settings, args.service).await?;
    let failed = |e: diesel::result::Error| StartupError::Jobs(e.to_string());
    match args.command {
        JobsCommand::List { state, limit } => {
            let jobs = queue::list(&mut conn, state.map(job_state), limit)
                .await
                .map_err(failed)?;
            Ok(table(&jobs))
        }
        JobsCommand::Retry { id } => match queue::retry_failed(&mut conn, id).await.map_err(failed)? {
            true => Ok(format!("job {id} is pending again and runs at once\n")),
            false => Err(StartupError::Jobs(format!("job {id} does not exist or has not failed"))),
        },
    }
}

async fn connect(settings: &Settings, service: ServiceName) -> Result<AsyncPgConnection, StartupError> {
    let orders_url = database_url(&settings.database).await?;
    let url = match service {
        ServiceName::Orders => orders_url,
        ServiceName::Notifications => crate::notifications::database_url(settings, &orders_url)
            .await?
            .expose()
            .to_owned(),
        ServiceName::Payments => crate::payments::database_url(settings, &orders_url)
            .await?
            .expose()
            .to_owned(),
    };
    AsyncPgConnection::establish(&url)
        .await
        .map_err(|e| StartupError::Jobs(format!("cannot connect to the {service:?} database: {e}")))
}

fn job_state(state: JobStateArg) -> JobState {
    match state {
        JobStateArg::Pending => JobState::Pending,
        JobStateArg::Running => JobState::Running,
        JobStateArg::Succeeded => JobState::Succeeded,
        JobStateArg::Failed => JobState::Failed,
    }
}

/// One line per job, aligned, with the last error last (it can be long).
fn table(jobs: &[JobRow]) -> String {
    let mut out = format!(
        "{:>8}  {:<24} {:<10} {:>8}  {:<20} {}\n",
        "ID", "KIND", "STATE", "ATTEMPTS", "RUN AT", "LAST ERROR"
    );
    for job in jobs {
        let attempts = format!("{}/{}", job.attempts, job.max_attempts);
        let run_at = job.run_at.format("%Y-%m-%d %H:%M:%S");
        let error = job.last_error.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "{:>8}  {:<24} {:<10} {attempts:>8}  {run_at:<20} {error}",
            job.id,
            job.kind,
            job.state.as_db()
        );
    }
    out
}
