//! Settings of the job queues (how long purged data is kept), and the
//! arguments of `orders jobs`, the operator's view of them.

use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::ServiceName;

#[derive(Debug, Clone, Args)]
pub struct RetentionSettings {
    /// How long an idempotency key (a `request_id` and the response it
    /// got) is kept. A retry after that is treated as a new request.
    #[arg(long, env = "ORDERS_IDEMPOTENCY_RETENTION", value_parser = humantime::parse_duration, default_value = "24h", global = true)]
    pub idempotency_retention: Duration,

    /// How long, counted from its change, a published event keeps its
    /// payload in the outbox (the audit row stays for good); the stream
    /// keeps events for 7 days.
    #[arg(long, env = "ORDERS_OUTBOX_RETENTION", value_parser = humantime::parse_duration, default_value = "7d", global = true)]
    pub outbox_retention: Duration,
}

/// `orders jobs`: see and retry the jobs of a service's queue.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct JobsArgs {
    /// Whose queue: each service has one, in its own database.
    #[arg(long, value_enum, default_value = "orders")]
    pub service: ServiceName,

    #[command(subcommand)]
    pub command: JobsCommand,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first: id, kind, state, attempts, when due, last error.
    List {
        /// Only jobs in this state.
        #[arg(long, value_enum)]
        state: Option<JobStateArg>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Run a failed job again, with its attempts reset.
    Retry {
        /// The job's id, as `list` shows it.
        id: i64,
    },
}

/// A job state, as `--state` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JobStateArg {
    Pending,
    Running,
    Succeeded,
    Failed,
}
