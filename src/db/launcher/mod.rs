//! Zero-configuration PostgreSQL, used when the service starts without `DATABASE_URL`.
//!
//! Discovery order of [`LocalPostgres::server_url`]: (1) a running local server (127.0.0.1:5432,
//! or `PGHOST`/`PGPORT`) as `PGUSER` or the OS user, then as `postgres`; (2) our private cluster in
//! `data_dir`, if its `postmaster.pid` names `port`; (3) else `initdb` (unless `PG_VERSION` exists)
//! and `pg_ctl start`. The cluster is left running on purpose: the next start reuses it.
//!
//! Traps: `initdb`/`postgres` refuse root, so as root they run via `runuser -u postgres`, the data
//! dir is `chown`ed to `postgres` and its parents must be traversable by it (hence `/var/lib`, not
//! `/root`); children run in cwd `/` as they fail on an unreadable cwd. The cluster listens on
//! 127.0.0.1 only (trust auth) with its socket in the data dir, away from the system cluster's (so
//! that path must stay under 107 bytes; server.log says so otherwise). Probes time out after 2 s. Database names must be
//! `[a-z0-9_]`: identifiers cannot be bound as parameters. Two processes starting at the very same
//! moment may race on `initdb`; the loser fails, and a restart reuses the cluster.

mod database;
mod process;

use std::path::{Path, PathBuf};

use tracing::{debug, info};

pub use database::{connect, database_name, ensure_database, with_database};
use database::{make_url, probe};
pub(crate) use process::find_bindir_in;
use process::{candidate_bindirs, data_dir_err, is_root, log_tail, pg_command, prepare_data_dir, run};

const DEFAULT_PORT: u16 = 54329;
/// The OS user that owns the private cluster, and the role its URL connects as.
const PG_OS_USER: &str = "postgres";

/// Where and how to look for / start a local PostgreSQL.
#[derive(Debug, Clone)]
pub struct LocalPostgres {
    /// Data directory of the private cluster, kept across restarts.
    pub data_dir: PathBuf,
    /// TCP port the private cluster listens on (127.0.0.1 only).
    pub port: u16,
}

/// Errors of the zero-configuration start; every message is one line.
#[derive(Debug, thiserror::Error)]
pub enum LocalPgError {
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found via pg_config, /usr/lib/postgresql/*/bin or PATH: set DATABASE_URL, or install PostgreSQL (e.g. `apt-get install postgresql`)"
    )]
    NoBinaries,
    #[error("invalid database name {0:?}: use 1-63 characters from [a-z0-9_]")]
    InvalidName(String),
    #[error("cannot use data directory {path}: {detail}")]
    DataDir { path: String, detail: String },
    #[error("command `{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("private PostgreSQL in {data_dir} did not start: {detail}")]
    Start { data_dir: String, detail: String },
    #[error("cannot connect to {target}: {detail}")]
    Connect { target: String, detail: String },
    #[error("{what} failed: {detail}")]
    Query { what: String, detail: String },
}

impl LocalPostgres {
    /// The default: data_dir = $ORDERS_DATA_DIR if set, else when running as root `/var/lib/orders/pgdata`,
    /// else `$XDG_DATA_HOME/orders/pgdata` (or `$HOME/.local/share/orders/pgdata`); port 54329.
    pub fn from_env() -> Self {
        let data_dir = match env_nonempty("ORDERS_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None if is_root() => PathBuf::from("/var/lib/orders/pgdata"),
            None => user_data_home().join("orders/pgdata"),
        };
        let port = DEFAULT_PORT;
        Self { data_dir, port }
    }

    /// Returns a URL (postgres://user@host:port/postgres) to the maintenance database of a PostgreSQL
    /// server that accepts connections right now. Order: (1) an already-running local server on
    /// 127.0.0.1:5432 (also honour PGHOST/PGPORT/PGUSER if set), trying the current OS user name and then
    /// `postgres` as the role; (2) the private cluster in `data_dir` if it is already running on `port`;
    /// (3) otherwise initialise (`initdb`, only if `data_dir` has no PG_VERSION yet) and start the private
    /// cluster from the installed PostgreSQL binaries, then return its URL.
    /// Where no PostgreSQL binaries are installed at all, return an error whose Display is ONE clear line
    /// saying so and what to do (set DATABASE_URL, or install PostgreSQL e.g. `apt-get install postgresql`).
    pub async fn server_url(&self) -> Result<String, LocalPgError> {
        if let Some(url) = self.running_server_url().await {
            return Ok(url);
        }
        let bindir = self.server_binaries().await?;
        self.init_and_start(&bindir).await?;
        let url = make_url(PG_OS_USER, "127.0.0.1", self.port);
        probe(&url).await?;
        Ok(url)
    }

    /// Steps (1) and (2) of [`Self::server_url`] only: the URL of a server
    /// that answers now, without starting one (`orders doctor` asks this).
    pub async fn running_server_url(&self) -> Option<String> {
        if let Some(url) = find_running_server().await {
            return Some(url);
        }
        let url = make_url(PG_OS_USER, "127.0.0.1", self.port);
        // Only trust the port if our own pid file names it (4th line): a foreign server is not ours.
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid"));
        let pid_port = pid_file.ok().and_then(|f| f.lines().nth(3)?.trim().parse().ok());
        if pid_port == Some(self.port) {
            match probe(&url).await {
                Ok(()) => return Some(url),
                Err(e) => debug!(error = %e, "private cluster has a pid file but does not answer"),
            }
        }
        None
    }

    /// The directory of the PostgreSQL server binaries step (3) would run.
    pub async fn server_binaries(&self) -> Result<PathBuf, LocalPgError> {
        find_bindir_in(&candidate_bindirs().await)
    }

    /// Starts the private cluster in `data_dir` (initialising it if needed)
    /// whether or not another server runs, and returns its URL. The fault
    /// tests use this to get a server of their own that they may stop.
    pub async fn start_private(&self) -> Result<String, LocalPgError> {
        let bindir = self.server_binaries().await?;
        self.init_and_start(&bindir).await?;
        let url = make_url(PG_OS_USER, "127.0.0.1", self.port);
        probe(&url).await?;
        Ok(url)
    }

    /// Stops the private cluster with `pg_ctl stop -m <mode>` (`fast`, or
    /// `immediate` to simulate a crash) and waits until it is down.
    pub async fn stop(&self, mode: &str) -> Result<(), LocalPgError> {
        let bindir = self.server_binaries().await?;
        let mut pg_ctl = pg_command(&bindir.join("pg_ctl"), is_root());
        let dir = std::path::absolute(&self.data_dir).map_err(|e| data_dir_err(&self.data_dir, e))?;
        run(pg_ctl.arg("-D").arg(dir).args(["-w", "-m", mode, "stop"])).await
    }

    async fn init_and_start(&self, bindir: &Path) -> Result<(), LocalPgError> {
        let as_root = is_root();
        let absolute = std::path::absolute(&self.data_dir);
        let dir = absolute.map_err(|e| data_dir_err(&self.data_dir, e))?;
        // An existing cluster is left as it is: no chown, no chmod, no second initdb.
        if !dir.join("PG_VERSION").exists() {
            prepare_data_dir(&dir, as_root).await?;
            info!(data_dir = %dir.display(), "initialising private PostgreSQL cluster");
            let mut initdb = pg_command(&bindir.join("initdb"), as_root);
            initdb.args(["--auth=trust", "--username=postgres", "--encoding=UTF8"]);
            // Byte-order sorting (C) everywhere, but Unicode character
            // classes (C.UTF-8, in glibc since 2.35): text search lowercases
            // "CRÈME" to "crème" only with them.
            initdb.args(["--locale=C", "--lc-ctype=C.UTF-8"]);
            run(initdb.arg("-D").arg(&dir)).await?;
        }
        info!(data_dir = %dir.display(), port = self.port, "starting private PostgreSQL cluster");
        let log = dir.join("server.log");
        // pg_ctl hands -o to /bin/sh, so the socket dir must be shell-quoted.
        let quoted = format!("'{}'", dir.to_string_lossy().replace('\'', r"'\''"));
        let opts = format!("-p {} -c listen_addresses=127.0.0.1 -k {quoted}", self.port);
        let mut pg_ctl = pg_command(&bindir.join("pg_ctl"), as_root);
        pg_ctl.arg("-D").arg(&dir).arg("-l").arg(&log);
        let started = run(pg_ctl.args(["-w", "-t", "30", "-o", &opts, "start"])).await;
        // pg_ctl only says "examine the log output", so the log's tail is the real reason.
        let data_dir = dir.display().to_string();
        started.map_err(|e| LocalPgError::Start {
            data_dir,
            detail: format!("{e}; server.log: {}", log_tail(&log)),
        })
    }
}

/// Step (1): a server someone else already runs, e.g. Debian's system cluster.
async fn find_running_server() -> Option<String> {
    let host = env_nonempty("PGHOST").unwrap_or_else(|| "127.0.0.1".into());
    let port = env_nonempty("PGPORT").and_then(|p| p.parse().ok());
    let first = env_nonempty("PGUSER").or_else(os_user_name);
    let mut roles: Vec<String> = first.into_iter().collect();
    if !roles.iter().any(|r| r == PG_OS_USER) {
        roles.push(PG_OS_USER.into());
    }
    for role in roles {
        // libpq allows a host list; the first entry is enough for a local probe.
        let url = make_url(&role, host.split(',').next()?, port.unwrap_or(5432));
        match probe(&url).await {
            Ok(()) => return Some(url),
            Err(e) => debug!(%url, error = %e, "no usable PostgreSQL"),
        }
    }
    None
}

fn os_user_name() -> Option<String> {
    // Containers often run as root without USER/LOGNAME; systemd sets them for User= services.
    let from_env = env_nonempty("USER").or_else(|| env_nonempty("LOGNAME"));
    from_env.or_else(|| is_root().then(|| "root".into()))
}

/// A directory beside the private cluster's data directory (`nats/`,
/// `mail/`), so all local state lives in one place.
pub fn beside_data_dir(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.parent().unwrap_or(Path::new(".")).join(name)
}

fn user_data_home() -> PathBuf {
    // The XDG spec says relative values must be ignored.
    match env_nonempty("XDG_DATA_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => PathBuf::from(env_nonempty("HOME").unwrap_or_else(|| ".".into())).join(".local/share"),
    }
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Folds a multi-line message (stderr, a driver error) onto one log-friendly line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
