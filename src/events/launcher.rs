//! Zero-configuration NATS, as [`crate::db::launcher`] is for PostgreSQL:
//! without `--nats-url`, use the NATS server on 127.0.0.1:4222 when one
//! answers, else start a private `nats-server -js` on 127.0.0.1:42229 with
//! its JetStream store next to the PostgreSQL data directory ([`LocalNats`]
//! says where; tests point it elsewhere). Like the private cluster, it is
//! left running on purpose and reused next time.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::{io::AsyncReadExt, net::TcpStream, process::Command};
use tracing::info;

use super::EventsError;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to look for a NATS server, and what to start when none answers.
#[derive(Debug, Clone)]
pub struct LocalNats {
    /// The machine's shared server, used when it answers.
    pub shared: String,
    /// The port of the private server, on 127.0.0.1.
    pub private_port: u16,
    /// The program that runs one.
    pub program: PathBuf,
}

impl Default for LocalNats {
    /// NATS's own port, and a private one next to it (`nats-server` on the `PATH`).
    fn default() -> Self {
        LocalNats {
            shared: "127.0.0.1:4222".to_owned(),
            private_port: 42229,
            program: "nats-server".into(),
        }
    }
}

/// Where the private server keeps its store: `nats/` beside `pgdata/`.
pub fn store_dir(pg_data_dir: &Path) -> PathBuf {
    crate::db::launcher::beside_data_dir(pg_data_dir, "nats")
}

/// The URL of a NATS server that answers now, found or started as the
/// defaults say ([`LocalNats::find_or_start`]).
pub async fn local_server(store: &Path) -> Result<String, EventsError> {
    LocalNats::default().find_or_start(store).await
}

impl LocalNats {
    /// The URL of a NATS server that answers now: the shared one, or the
    /// private one (started with its store in `store` when it is not running).
    pub async fn find_or_start(&self, store: &Path) -> Result<String, EventsError> {
        let shared = format!("nats://{}", self.shared);
        let url = match self.running_url().await {
            Some(url) => url,
            None => {
                let private = self.private_addr();
                self.start_private(store).await?;
                wait_until_it_answers(&private, store).await?;
                format!("nats://{private}")
            }
        };
        if url != shared {
            let private = url.trim_start_matches("nats://");
            info!(%private, store = %store.display(), "no --nats-url set: using a private NATS server");
        }
        Ok(url)
    }

    /// The URL of the shared or the private server if one answers now,
    /// without starting anything (`orders doctor` asks this).
    pub async fn running_url(&self) -> Option<String> {
        for addr in [self.shared.clone(), self.private_addr()] {
            if answers(&addr).await {
                return Some(format!("nats://{addr}"));
            }
        }
        None
    }

    /// Whether [`Self::program`] can be run: a path that exists, or a name
    /// found on the `PATH`.
    pub fn program_installed(&self) -> bool {
        if self.program.components().count() > 1 {
            return self.program.is_file();
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path).any(|dir| dir.join(&self.program).is_file())
    }

    /// The error [`Self::find_or_start`] gives when nothing answers and
    /// [`Self::program`] is not installed.
    pub fn not_installed(&self) -> EventsError {
        EventsError::NoNatsServer {
            shared: self.shared.clone(),
            program: self.program.display().to_string(),
        }
    }

    fn private_addr(&self) -> String {
        format!("127.0.0.1:{}", self.private_port)
    }

    async fn start_private(&self, store: &Path) -> Result<(), EventsError> {
        let failed = |detail: String| EventsError::Start {
            store: store.display().to_string(),
            detail,
        };
        std::fs::create_dir_all(store).map_err(|e| failed(e.to_string()))?;
        let port = self.private_port.to_string();
        let mut command = Command::new(&self.program);
        command.args(["-js", "-a", "127.0.0.1", "-p", &port, "-sd"]).arg(store);
        command
            .arg("-l")
            .arg(store.join("nats.log"))
            .arg("-P")
            .arg(store.join("nats.pid"));
        // Detached on purpose: the server outlives this process, like the private PostgreSQL.
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        info!(store = %store.display(), port = self.private_port, "starting a private NATS server");
        match command.spawn() {
            Ok(_child) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(self.not_installed()),
            Err(e) => Err(failed(e.to_string())),
        }
    }
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
