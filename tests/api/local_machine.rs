//! What the tests take from the machine they run on, besides PostgreSQL: a
//! fresh temporary directory, a free TCP port, this repository's files, and
//! programs run to completion with a time limit (among them the Python
//! virtualenv that `scripts/python-env` creates, with grpcio and grpcurl,
//! and promtool from `scripts/install-promtool`).
//!
//! Here so that tests that write files, start servers of their own or run
//! other programs never collide with each other or with leftovers of earlier
//! runs, and never block the runtime the server under test runs on.

use std::{
    path::{Path, PathBuf},
    process::{Output, Stdio},
    time::Duration,
};

use tokio::process::Command;

/// Generous: a cold `pip install` downloads about 60 MB.
const VENV_TIMEOUT: Duration = Duration::from_secs(600);

/// A new, empty directory under the system's temporary directory, named
/// after `purpose`, this process and a counter.
pub fn fresh_dir(purpose: &str) -> std::path::PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("orders-test-{purpose}-{}-{n}", std::process::id()));
    // A leftover of an earlier process with the same pid would hold stale files.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creates {}: {e}", dir.display()));
    dir
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The root of this repository.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scripts/python-env` and returns the virtualenv it prints last.
pub async fn python_venv() -> PathBuf {
    path_printed_by("scripts/python-env", VENV_TIMEOUT).await
}

/// Runs one of this repository's bash scripts that installs or finds
/// something (`scripts/python-env`, `scripts/install-promtool`), asserting
/// success, and returns the path it prints on its last line of stdout.
pub async fn path_printed_by(script: &str, limit: Duration) -> PathBuf {
    let mut command = Command::new("bash");
    command.arg(repo().join(script));
    let output = run_to_success(&mut command, limit, script).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("{script} prints a path on its last line"));
    PathBuf::from(path.trim())
}

/// [`run`], asserting that the command succeeds; a failure shows `what`
/// failed, its exit status and everything it printed.
pub async fn run_to_success(command: &mut Command, limit: Duration, what: &str) -> Output {
    let output = run(command, limit).await;
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}",
        output.status,
        show(&output)
    );
    output
}

/// Runs a command to completion without blocking the server's runtime; it is
/// killed if it takes longer than `limit`.
pub async fn run(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {command:?}: {e}"));
    tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{command:?} did not finish within {limit:?}"))
        .expect("waiting for the child process")
}

/// The stdout and stderr of a finished command, for a failure message.
pub fn show(output: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
