//! Running the PostgreSQL server tools (`initdb`, `pg_ctl`) on this machine: finding them,
//! preparing the data directory, and running them as the `postgres` OS user when we are root.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use super::{LocalPgError, PG_OS_USER, one_line};

const SERVER_BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// Creates the data dir (0700, as PostgreSQL demands) and missing parents (0755, so `postgres`
/// can traverse them whatever our umask is); as root, hands the data dir to `postgres`.
pub(super) async fn prepare_data_dir(dir: &Path, as_root: bool) -> Result<(), LocalPgError> {
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
pub(super) fn pg_command(program: &Path, as_root: bool) -> Command {
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
pub(super) async fn run(cmd: &mut Command) -> Result<(), LocalPgError> {
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
pub(super) async fn candidate_bindirs() -> Vec<PathBuf> {
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

/// Whether we run as root, when the server tools must run as `postgres` instead.
pub(super) fn is_root() -> bool {
    // The effective UID is the 2nd field of `Uid:`; this avoids a libc/nix dependency.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid_line = status.lines().find_map(|l| l.strip_prefix("Uid:"));
    uid_line.and_then(|l| l.split_whitespace().nth(1)) == Some("0")
}

/// The last five non-empty lines of the server log: the real reason a start failed.
pub(super) fn log_tail(log: &Path) -> String {
    let text = String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// An unusable data directory, with what is wrong with it.
pub(super) fn data_dir_err(path: &Path, detail: impl ToString) -> LocalPgError {
    let (path, detail) = (path.display().to_string(), detail.to_string());
    LocalPgError::DataDir { path, detail }
}
