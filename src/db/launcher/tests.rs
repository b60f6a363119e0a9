//! Tests for the launcher against the real machine: the system cluster on 5432 and a private
//! cluster started under /var/lib. They need PostgreSQL binaries, as the service itself does.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::{LocalPgError, LocalPostgres, ensure_database, find_bindir_in};

/// Held by every async test: two of them write PG* variables, and a `set_var` must never race a
/// reader of the environment (the module, or C code such as getaddrinfo under a connect).
static ENV_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Shows the module's tracing output with `cargo test -- --nocapture` (RUST_LOG=debug for probes).
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or("info".into());
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer();
    let _ = subscriber.try_init();
}

fn set_env(key: &str, value: Option<&str>) {
    // SAFETY: callers hold ENV_LOCK, and nothing else in this test binary touches the environment.
    unsafe {
        match value {
            Some(v) => std::env::set_var(key, v),
            None => std::env::remove_var(key),
        }
    }
}

fn clear_pg_env() {
    for key in ["PGHOST", "PGPORT", "PGUSER"] {
        set_env(key, None);
    }
}

/// Two distinct ports that nothing listens on right now.
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (a.local_addr().unwrap().port(), b.local_addr().unwrap().port())
}

async fn drop_database(server_url: &str, name: &str) {
    let mut conn = AsyncPgConnection::establish(server_url).await.unwrap();
    // WITH (FORCE): our just-closed connections may still be exiting on the server side.
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    diesel::sql_query(sql).execute(&mut conn).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn system_cluster_is_found_and_database_created_once() {
    init_logs();
    let _env = ENV_LOCK.lock().await;
    clear_pg_env();
    let server = LocalPostgres::from_env().server_url().await.unwrap();
    assert!(server.contains("@127.0.0.1:5432/postgres"), "{server}");

    let name = format!("localpg_test_{}", std::process::id());
    // Two concurrent creators: the loser's "already exists" must count as success.
    let (a, b) = tokio::join!(ensure_database(&server, &name), ensure_database(&server, &name));
    let db_url = a.unwrap();
    assert_eq!(b.unwrap(), db_url);
    assert!(db_url.ends_with(&format!(":5432/{name}")), "{db_url}");
    // Reuse: a third call finds it; the URL keeps any ?params of the server URL.
    let with_params = format!("{server}?application_name=t");
    let again = ensure_database(&with_params, &name).await.unwrap();
    assert_eq!(again, format!("{db_url}?application_name=t"));
    AsyncPgConnection::establish(&db_url).await.unwrap();

    // PGHOST may name a socket directory; it has to travel as ?host= in the URL.
    set_env("PGHOST", Some("/var/run/postgresql"));
    let socket_server = LocalPostgres::from_env().server_url().await.unwrap();
    clear_pg_env();
    assert!(socket_server.contains("@/postgres?host=/var/run/postgresql&port=5432"));
    let socket_db = ensure_database(&socket_server, &name).await.unwrap();
    assert!(socket_db.contains(&format!("@/{name}?host=")), "{socket_db}");
    AsyncPgConnection::establish(&socket_db).await.unwrap();

    drop_database(&server, &name).await;
}

/// Stops the private cluster and removes its directory, even when the test fails.
struct PrivateCluster {
    root: PathBuf,
    data_dir: PathBuf,
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if self.data_dir.join("postmaster.pid").exists() {
            let mut stop = Command::new("runuser");
            stop.args(["-u", "postgres", "--", "pg_ctl", "stop", "-m", "fast", "-D"]);
            let status = stop.arg(&self.data_dir).current_dir("/").status();
            assert!(status.is_ok_and(|s| s.success()), "pg_ctl stop failed");
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn postmaster_pid(data_dir: &Path) -> String {
    let pid_file = std::fs::read_to_string(data_dir.join("postmaster.pid")).unwrap();
    pid_file.lines().next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn private_cluster_is_initialised_started_and_reused() {
    init_logs();
    let _env = ENV_LOCK.lock().await;
    clear_pg_env();
    let (closed_port, port) = free_ports();
    set_env("PGPORT", Some(&closed_port.to_string()));

    let root = PathBuf::from(format!("/var/lib/orders-test-{}", std::process::id()));
    let data_dir = root.join("nested/pgdata");
    let cluster = PrivateCluster {
        root: root.clone(),
        data_dir: data_dir.clone(),
    };
    let local = LocalPostgres {
        data_dir: data_dir.clone(),
        port,
    };

    let url = local.server_url().await.unwrap();
    assert_eq!(url, format!("postgres://postgres@127.0.0.1:{port}/postgres"));
    let initialised = std::fs::metadata(data_dir.join("PG_VERSION"))
        .unwrap()
        .modified()
        .unwrap();
    let pid = postmaster_pid(&data_dir);

    // Second call: same server (same postmaster pid), no second initdb (PG_VERSION untouched).
    let started = Instant::now();
    assert_eq!(local.server_url().await.unwrap(), url);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "reuse took {:?}",
        started.elapsed()
    );
    assert_eq!(postmaster_pid(&data_dir), pid);
    let again = std::fs::metadata(data_dir.join("PG_VERSION"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(again, initialised);

    let db_url = ensure_database(&url, "orders").await.unwrap();
    assert_eq!(db_url, format!("postgres://postgres@127.0.0.1:{port}/orders"));
    AsyncPgConnection::establish(&db_url).await.unwrap();

    drop(cluster);
    assert!(!root.exists());
    set_env("PGPORT", None);
}

#[test]
fn missing_binaries_give_one_clear_line() {
    let candidates = [PathBuf::from("/nonexistent/bin"), std::env::temp_dir()];
    let err = find_bindir_in(&candidates).unwrap_err();
    assert!(matches!(err, LocalPgError::NoBinaries));
    let message = err.to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("DATABASE_URL") && message.contains("apt-get install postgresql"));
    assert!(matches!(find_bindir_in(&[]), Err(LocalPgError::NoBinaries)));
}

#[test]
fn installed_binaries_are_found() {
    let out = Command::new("pg_config").arg("--bindir").output().unwrap();
    let bindir = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let candidates = [PathBuf::from("/nonexistent/bin"), bindir];
    assert_eq!(find_bindir_in(&candidates).unwrap(), candidates[1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn unsafe_database_names_are_rejected_before_connecting() {
    let _env = ENV_LOCK.lock().await;
    let unreachable = "postgres://nobody@127.0.0.1:1/postgres";
    for name in ["", "Orders", "a-b", "x\"; DROP DATABASE postgres; --", &"a".repeat(64)] {
        let err = ensure_database(unreachable, name).await.unwrap_err();
        assert!(matches!(err, LocalPgError::InvalidName(_)), "{name}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_server_fails_fast_with_one_line() {
    let _env = ENV_LOCK.lock().await;
    let (closed_port, _) = free_ports();
    let url = format!("postgres://someone:secret@127.0.0.1:{closed_port}/postgres");
    let started = Instant::now();
    let err = ensure_database(&url, "orders").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    let message = err.to_string();
    assert!(matches!(err, LocalPgError::Connect { .. }), "{message}");
    assert!(!message.contains('\n') && !message.contains("secret"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_server_times_out_after_two_seconds() {
    let _env = ENV_LOCK.lock().await;
    // A listener that never accepts: TCP connects, but no PostgreSQL answer ever comes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let started = Instant::now();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let err = ensure_database(&url, "orders").await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    assert!(err.to_string().contains("no answer within 2s"), "{err}");
}
