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

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::process::Command;
use tracing::{debug, info};

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const DEFAULT_PORT: u16 = 54329;
const PG_OS_USER: &str = "postgres";
const SERVER_BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

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
        if let Some(url) = find_running_server().await {
            return Ok(url);
        }
        let url = make_url(PG_OS_USER, "127.0.0.1", self.port);
        // Only trust the port if our own pid file names it (4th line): a foreign server is not ours.
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid"));
        let pid_port = pid_file.ok().and_then(|f| f.lines().nth(3)?.trim().parse().ok());
        if pid_port == Some(self.port) {
            match probe(&url).await {
                Ok(()) => return Ok(url),
                Err(e) => debug!(error = %e, "private cluster has a pid file but does not answer"),
            }
        }
        let bindir = find_bindir_in(&candidate_bindirs().await)?;
        self.init_and_start(&bindir).await?;
        probe(&url).await?;
        Ok(url)
    }

    /// Starts the private cluster in `data_dir` (initialising it if needed)
    /// whether or not another server runs, and returns its URL. The fault
    /// tests use this to get a server of their own that they may stop.
    pub async fn start_private(&self) -> Result<String, LocalPgError> {
        let bindir = find_bindir_in(&candidate_bindirs().await)?;
        self.init_and_start(&bindir).await?;
        let url = make_url(PG_OS_USER, "127.0.0.1", self.port);
        probe(&url).await?;
        Ok(url)
    }

    /// Stops the private cluster with `pg_ctl stop -m <mode>` (`fast`, or
    /// `immediate` to simulate a crash) and waits until it is down.
    pub async fn stop(&self, mode: &str) -> Result<(), LocalPgError> {
        let bindir = find_bindir_in(&candidate_bindirs().await)?;
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
            run(initdb.args(["--locale=C", "-D"]).arg(&dir)).await?;
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

/// Creates database `name` on the server at `server_url` if it does not exist yet (safe if two processes
/// race to create it) and returns the URL of that database.
pub async fn ensure_database(server_url: &str, name: &str) -> Result<String, LocalPgError> {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
    if !(1..=63).contains(&name.len()) || !name.bytes().all(allowed) {
        return Err(LocalPgError::InvalidName(name.to_string()));
    }
    let mut conn = connect(server_url).await?;
    let query_err = |e: diesel::result::Error| LocalPgError::Query {
        what: format!("creating database {name}"),
        detail: one_line(&e.to_string()),
    };
    let exists = "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS present";
    let found: Exists = diesel::sql_query(exists)
        .bind::<Text, _>(name)
        .get_result(&mut conn)
        .await
        .map_err(query_err)?;
    if !found.present {
        // Safe to splice: `name` was validated to [a-z0-9_] above.
        let create = diesel::sql_query(format!("CREATE DATABASE \"{name}\""));
        match create.execute(&mut conn).await {
            Ok(_) => info!(database = name, "created database"),
            Err(e) if is_duplicate(&e) => debug!(database = name, "created concurrently elsewhere"),
            Err(e) => return Err(query_err(e)),
        }
    }
    Ok(with_database(server_url, name))
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    present: bool,
}

/// A concurrent CREATE DATABASE loses either the name check ("already exists") or the unique index.
fn is_duplicate(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(e, Error::DatabaseError(kind, info)
        if matches!(kind, DatabaseErrorKind::UniqueViolation) || info.message().contains("already exists"))
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

async fn connect(url: &str) -> Result<AsyncPgConnection, LocalPgError> {
    let attempt = tokio::time::timeout(PROBE_TIMEOUT, AsyncPgConnection::establish(url));
    let detail = match attempt.await {
        Ok(Ok(conn)) => return Ok(conn),
        Ok(Err(e)) => one_line(&e.to_string()),
        Err(_) => format!("no answer within {PROBE_TIMEOUT:?}"),
    };
    // Show host/port/db only: whatever precedes '@' may hold a password.
    let target = url.rsplit_once('@').map_or(url, |(_, host)| host).into();
    Err(LocalPgError::Connect { target, detail })
}

async fn probe(url: &str) -> Result<(), LocalPgError> {
    connect(url).await.map(drop)
}

/// Creates the data dir (0700, as PostgreSQL demands) and missing parents (0755, so `postgres`
/// can traverse them whatever our umask is); as root, hands the data dir to `postgres`.
async fn prepare_data_dir(dir: &Path, as_root: bool) -> Result<(), LocalPgError> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|p| !p.exists()).collect();
    std::fs::create_dir_all(dir).map_err(|e| data_dir_err(dir, e))?;
    for (i, path) in missing.into_iter().enumerate() {
        let mode = std::fs::Permissions::from_mode(if i == 0 { 0o700 } else { 0o755 });
        std::fs::set_permissions(path, mode).map_err(|e| data_dir_err(path, e))?;
    }
    if !as_root {
        return Ok(());
    }
    run(Command::new("chown").arg(PG_OS_USER).arg(dir)).await?;
    // Catches pre-existing parents like /root (0700), which we must not loosen ourselves.
    let writable = run(pg_command(Path::new("test"), true).arg("-w").arg(dir)).await;
    if writable.is_err() {
        let detail =
            "the postgres OS user cannot write it (each parent needs o+x); set ORDERS_DATA_DIR, e.g. under /var/lib";
        return Err(data_dir_err(dir, detail));
    }
    Ok(())
}

/// A PostgreSQL tool, run as the `postgres` OS user when we are root (initdb/postgres refuse root).
fn pg_command(program: &Path, as_root: bool) -> Command {
    let mut cmd = Command::new("runuser");
    if as_root {
        cmd.args(["-u", PG_OS_USER, "--"]).arg(program);
    } else {
        cmd = Command::new(program);
    }
    // initdb/pg_ctl fail when `postgres` cannot read the cwd (e.g. /root).
    cmd.current_dir("/").stdin(Stdio::null());
    cmd
}

/// Runs a command to completion; a failure carries its stderr, folded onto one line.
async fn run(cmd: &mut Command) -> Result<(), LocalPgError> {
    let (program, args) = (cmd.as_std().get_program(), cmd.as_std().get_args());
    let words: Vec<_> = std::iter::once(program).chain(args).collect();
    let command = words.join(" ".as_ref()).to_string_lossy().into_owned();
    // No timeout needed: `pg_ctl -w -t 30` bounds the only step that waits on the server.
    let detail = match cmd.output().await {
        Ok(out) if out.status.success() => return Ok(()),
        Ok(out) => format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr)),
        Err(e) => e.to_string(),
    };
    let detail = one_line(&detail);
    Err(LocalPgError::Command { command, detail })
}

/// Directories that may hold the server binaries, best guess first.
async fn candidate_bindirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let pg_config = Command::new("pg_config").arg("--bindir").output().await;
    if let Ok(out) = pg_config
        && out.status.success()
    {
        dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    // Debian: one dir per major version, newest first (a client-only one has no initdb).
    let root = Path::new("/usr/lib/postgresql");
    let entries = root.read_dir().into_iter().flatten().flatten();
    let names = entries.filter_map(|e| e.file_name().into_string().ok());
    let mut majors: Vec<u32> = names.filter_map(|n| n.parse().ok()).collect();
    majors.sort_unstable_by(|a, b| b.cmp(a));
    dirs.extend(majors.iter().map(|m| root.join(m.to_string()).join("bin")));
    // `initdb` on PATH is often a symlink; its real dir is the one that also has `postgres`.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = std::env::split_paths(&path).filter_map(|d| d.join("initdb").canonicalize().ok());
    dirs.extend(on_path.filter_map(|initdb| Some(initdb.parent()?.to_path_buf())));
    dirs
}

/// The first candidate directory holding a complete server installation.
pub(crate) fn find_bindir_in(candidates: &[PathBuf]) -> Result<PathBuf, LocalPgError> {
    let complete = |d: &&PathBuf| SERVER_BINARIES.iter().all(|b| d.join(b).is_file());
    let found = candidates.iter().find(complete);
    found.cloned().ok_or(LocalPgError::NoBinaries)
}

fn is_root() -> bool {
    // The effective UID is the 2nd field of `Uid:`; this avoids a libc/nix dependency.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid_line = status.lines().find_map(|l| l.strip_prefix("Uid:"));
    uid_line.and_then(|l| l.split_whitespace().nth(1)) == Some("0")
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

fn make_url(user: &str, host: &str, port: u16) -> String {
    if host.starts_with('/') {
        // A socket dir (PGHOST=/var/run/postgresql) cannot be the URL's host part.
        format!("postgres://{user}@/postgres?host={host}&port={port}")
    } else {
        format!("postgres://{user}@{host}:{port}/postgres")
    }
}

/// Replaces the database of `url`, keeping credentials, host and `?params`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, params) = url.split_once('?').map_or((url, ""), |(b, p)| (b, p));
    // The path starts after the credentials (which may contain '/') and the scheme's "//".
    let scheme_end = base.find("://").map(|i| i + 2);
    let host_start = base.rfind('@').or(scheme_end).map_or(0, |i| i + 1);
    let end = base[host_start..].find('/').map_or(base.len(), |i| host_start + i);
    let sep = if params.is_empty() { "" } else { "?" };
    format!("{}/{name}{sep}{params}", &base[..end])
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn log_tail(log: &Path) -> String {
    let text = String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

fn data_dir_err(path: &Path, detail: impl ToString) -> LocalPgError {
    let (path, detail) = (path.display().to_string(), detail.to_string());
    LocalPgError::DataDir { path, detail }
}

#[cfg(test)]
mod tests;
