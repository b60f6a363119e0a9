//! Zero-configuration NATS, as [`crate::db::launcher`] is for PostgreSQL:
//! without `--nats-url`, use the NATS server on 127.0.0.1:4222 when one
//! answers, else start a private `nats-server -js` on 127.0.0.1:42229 with
//! its JetStream store next to the PostgreSQL data directory. Like the
//! private cluster, it is left running on purpose and reused next time.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::{io::AsyncReadExt, net::TcpStream, process::Command};
use tracing::info;

use super::EventsError;

const SHARED_ADDR: &str = "127.0.0.1:4222";
const PRIVATE_PORT: u16 = 42229;
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the private server keeps its store: `nats/` beside `pgdata/`.
pub fn store_dir(pg_data_dir: &Path) -> PathBuf {
    crate::db::launcher::beside_data_dir(pg_data_dir, "nats")
}

/// The URL of a NATS server that answers now: the shared one, or ours.
pub async fn local_server(store: &Path) -> Result<String, EventsError> {
    if answers(SHARED_ADDR).await {
        return Ok(format!("nats://{SHARED_ADDR}"));
    }
    let private = format!("127.0.0.1:{PRIVATE_PORT}");
    if !answers(&private).await {
        start_private(store).await?;
        wait_until_it_answers(&private, store).await?;
    }
    info!(%private, store = %store.display(), "no --nats-url set: using a private NATS server");
    Ok(format!("nats://{private}"))
}

/// A NATS server greets every connection with an `INFO {...}` line.
async fn answers(addr: &str) -> bool {
    let greeting = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let mut first = [0u8; 4];
        stream.read_exact(&mut first).await.ok()?;
        Some(&first == b"INFO")
    };
    matches!(tokio::time::timeout(PROBE_TIMEOUT, greeting).await, Ok(Some(true)))
}

async fn start_private(store: &Path) -> Result<(), EventsError> {
    let failed = |detail: String| EventsError::Start {
        store: store.display().to_string(),
        detail,
    };
    std::fs::create_dir_all(store).map_err(|e| failed(e.to_string()))?;
    let port = PRIVATE_PORT.to_string();
    let mut command = Command::new("nats-server");
    command.args(["-js", "-a", "127.0.0.1", "-p", &port, "-sd"]).arg(store);
    command
        .arg("-l")
        .arg(store.join("nats.log"))
        .arg("-P")
        .arg(store.join("nats.pid"));
    // Detached on purpose: the server outlives this process, like the private PostgreSQL.
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    info!(store = %store.display(), port = PRIVATE_PORT, "starting a private NATS server");
    match command.spawn() {
        Ok(_child) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(EventsError::NoNatsServer),
        Err(e) => Err(failed(e.to_string())),
    }
}

async fn wait_until_it_answers(addr: &str, store: &Path) -> Result<(), EventsError> {
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    while tokio::time::Instant::now() < deadline {
        if answers(addr).await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(store.join("nats.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(3).collect();
    Err(EventsError::Start {
        store: store.display().to_string(),
        detail: format!(
            "no answer on {addr} within {START_TIMEOUT:?}; nats.log: {}",
            tail.join(" | ")
        ),
    })
}
