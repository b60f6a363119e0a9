//! Settings, from command-line flags or the environment (flags win).
//!
//! Every setting has a sensible default so that `orders` with nothing set
//! serves on 127.0.0.1:50051 against a local PostgreSQL; `orders --help`
//! documents each one with its environment variable.
//!
//! `build.rs` compiles this module too, to write the man page: so it uses
//! nothing of the crate but [`crate::VERSION`].

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod catalog;
pub mod events;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod payments;
pub mod secret_url;
pub mod security;
pub mod tracing;
pub mod web;

pub use self::tracing::TracingSettings;
pub use catalog::CatalogSettings;
pub use events::{EventSettings, SubjectPrefix};
pub use jobs::{JobStateArg, JobsArgs, JobsCommand, RetentionSettings};
pub use metrics::{MetricsAddr, MetricsSettings};
pub use notifications::NotificationSettings;
pub use payments::PaymentSettings;
pub use secret_url::SecretUrl;
pub use security::{AuthSettings, SecuritySettings, TlsSettings};
pub use web::{WebAddr, WebOrigin, WebSettings};

/// The orders service: catalog and order lifecycle over gRPC on PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "orders", version = crate::VERSION, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the gRPC server (the default). Applies pending migrations first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a development token signed with --auth-hs256-secret-file, for
    /// the configured --auth-issuer and --auth-audience.
    Token(TokenArgs),
    /// See and retry the jobs of a service's job queue.
    Jobs(JobsArgs),
    /// Check every dependency of the configured services (PostgreSQL and
    /// each service's database and schema, NATS with JetStream, SMTP, key
    /// and TLS files, the clock, the address) without changing anything:
    /// one line each, exit code 0 only when none fails.
    Doctor {
        /// Print the checks as one JSON object instead.
        #[arg(long)]
        json: bool,
    },
    /// Print the man page (roff), e.g. `orders man | man -l -`, or write
    /// it and every subcommand's page into a directory.
    Man {
        /// Write `orders.1` and a page per subcommand (`orders-doctor.1`,
        /// …) here instead, e.g. /usr/local/share/man/man1.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Print a completion script for a shell, e.g.
    /// `orders completions bash > /etc/bash_completion.d/orders`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// What `orders token` puts in the token.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct TokenArgs {
    /// The `sub` claim: for the customer role, the customer id.
    #[arg(long)]
    pub subject: String,

    /// A role to grant: customer, warehouse, catalog-admin, service or auditor
    /// (repeat for several).
    #[arg(long = "role", required = true)]
    pub roles: Vec<String>,

    /// How long the token is valid.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1h")]
    pub ttl: Duration,
}

/// Everything the application needs to start.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on for gRPC (HTTP/2; plaintext unless --tls-cert is
    /// set). Port 0 picks a free port. A non-loopback address needs
    /// authentication, or --insecure. A process that runs the payment
    /// service but not the orders service listens on --payments-addr instead.
    #[arg(long, env = "ORDERS_ADDR", default_value = "127.0.0.1:50051", global = true)]
    pub addr: SocketAddr,

    /// The services this process runs, comma-separated: `orders` (the
    /// catalog and order API, its outbox relay and the payment saga),
    /// `payments` (the payment API and its ledger), `notifications` (the
    /// emails). Each has its own database and talks to the others only
    /// through gRPC and NATS; run them in one process or each in its own.
    #[arg(
        long,
        env = "ORDERS_SERVICES",
        value_enum,
        value_delimiter = ',',
        default_value = "orders,payments,notifications",
        global = true
    )]
    pub services: Vec<ServiceName>,

    #[command(flatten)]
    pub database: DatabaseSettings,

    #[command(flatten)]
    pub server: ServerSettings,

    #[command(flatten)]
    pub security: SecuritySettings,

    #[command(flatten)]
    pub catalog: CatalogSettings,

    #[command(flatten)]
    pub events: EventSettings,

    #[command(flatten)]
    pub notifications: NotificationSettings,

    #[command(flatten)]
    pub payments: PaymentSettings,

    #[command(flatten)]
    pub retention: RetentionSettings,

    #[command(flatten)]
    pub metrics: MetricsSettings,

    #[command(flatten)]
    pub tracing: TracingSettings,

    #[command(flatten)]
    pub web: WebSettings,

    /// Log line format: `text` for people, `json` for log collectors. The
    /// level is set with RUST_LOG (default `info`).
    #[arg(long, env = "ORDERS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseSettings {
    /// PostgreSQL URL, e.g. postgres://user:password@host:5432/orders. Without
    /// it, a local PostgreSQL is used (an `orders` database is created if
    /// missing); where none runs, a private cluster is started in --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<SecretUrl>,

    /// Maximum number of pooled database connections.
    #[arg(long, env = "ORDERS_DB_POOL_SIZE", default_value_t = 16, global = true)]
    pub db_pool_size: usize,

    /// How long a call waits for a free pooled connection (or for a new one to
    /// connect) before failing with UNAVAILABLE.
    #[arg(long, env = "ORDERS_DB_ACQUIRE_TIMEOUT", value_parser = humantime::parse_duration, default_value = "2s", global = true)]
    pub db_acquire_timeout: Duration,

    /// PostgreSQL `statement_timeout` for every statement the service runs.
    #[arg(long, env = "ORDERS_DB_STATEMENT_TIMEOUT", value_parser = humantime::parse_duration, default_value = "5s", global = true)]
    pub db_statement_timeout: Duration,

    /// Data directory of the private PostgreSQL cluster used when no
    /// DATABASE_URL is set and no local server runs. Kept across restarts.
    /// Default: /var/lib/orders/pgdata as root, else ~/.local/share/orders/pgdata.
    #[arg(long, env = "ORDERS_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServerSettings {
    /// The longest any call may run; a shorter client deadline (grpc-timeout)
    /// wins. Calls past it end with DEADLINE_EXCEEDED.
    #[arg(long, env = "ORDERS_REQUEST_TIMEOUT", value_parser = humantime::parse_duration, default_value = "10s", global = true)]
    pub request_timeout: Duration,

    /// Maximum number of calls in progress across all connections; calls
    /// beyond it are refused at once with RESOURCE_EXHAUSTED. Health checks
    /// and reflection are not counted.
    #[arg(long, env = "ORDERS_CONCURRENCY_LIMIT", default_value_t = 512, global = true)]
    pub concurrency_limit: usize,

    /// Calls per second each caller (a token's subject, else a client
    /// certificate) may make on average; beyond it, calls are refused at
    /// once with RESOURCE_EXHAUSTED. 0 turns the limit off. Callers without
    /// an identity (no authentication, no client certificate) are not limited.
    #[arg(long, env = "ORDERS_RATE_LIMIT_RPS", default_value_t = 1000.0, value_parser = non_negative, global = true)]
    pub rate_limit_rps: f64,

    /// Calls a caller may make in a burst above its average rate.
    #[arg(long, env = "ORDERS_RATE_LIMIT_BURST", default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub rate_limit_burst: u32,

    /// On SIGINT/SIGTERM, how long in-flight calls may take to finish before
    /// the server exits anyway.
    #[arg(long, env = "ORDERS_DRAIN_TIMEOUT", value_parser = humantime::parse_duration, default_value = "10s", global = true)]
    pub drain_timeout: Duration,

    /// How often the database is probed to keep health status current.
    #[arg(long, env = "ORDERS_HEALTH_CHECK_INTERVAL", value_parser = humantime::parse_duration, default_value = "1s", global = true)]
    pub health_check_interval: Duration,
}

/// A service one binary can run (see `--services`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceName {
    Orders,
    Payments,
    Notifications,
}

impl Settings {
    /// Whether this process runs `service`.
    pub fn runs(&self, service: ServiceName) -> bool {
        self.services.contains(&service)
    }

    /// Where the gRPC server listens: `--payments-addr` when the payment
    /// service is the only gRPC service of this process (it runs payments
    /// but not orders), else `--addr`.
    pub fn listen_addr(&self) -> SocketAddr {
        match self.runs(ServiceName::Payments) && !self.runs(ServiceName::Orders) {
            true => self.payments.payments_addr,
            false => self.addr,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn non_negative(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!("{value:?} is not a number of calls per second (0 or more)")),
    }
}

impl Settings {
    /// The defaults, as `orders` with no flags would use them, except that
    /// nothing is read from the environment. Tests start from this.
    pub fn defaults() -> Self {
        let cli = Cli::try_parse_from_env_free(["orders"]);
        cli.settings
    }
}

impl Cli {
    /// Parses `args` as if no environment variable were set.
    fn try_parse_from_env_free<const N: usize>(args: [&str; N]) -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let command = Cli::command().mut_args(|arg| arg.env(None::<&str>));
        let matches = command.get_matches_from(args);
        Cli::from_arg_matches(&matches).expect("the defaults parse")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_serve_on_the_documented_address() {
        let settings = Settings::defaults();
        assert_eq!(settings.addr.to_string(), "127.0.0.1:50051");
        assert_eq!(settings.database.database_url, None);
        assert_eq!(settings.server.drain_timeout, Duration::from_secs(10));
    }

    #[test]
    fn printed_settings_hide_the_database_password() {
        let mut settings = Settings::defaults();
        settings.database.database_url = Some("postgres://orders:hunter2@db/orders".into());
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("postgres://orders:***@db/orders"), "{printed}");
    }

    #[test]
    fn the_cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
