//! The real `orders` binary as a test runs it: its stderr (the log)
//! collected as it runs, stopped with SIGTERM as a supervisor would.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::timing::{eventually, within};

/// The real binary, its stderr collected as it runs.
pub struct Server {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_orders"))
            // Events are tested in events.rs, each test with a stream of its
            // own, and notifications in notifications.rs.
            .env("ORDERS_OUTBOX_RELAY", "false")
            .env("ORDERS_SERVICES", "orders")
            .env("ORDERS_METRICS_ADDR", "")
            .args(args)
            .env("DATABASE_URL", database_url)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Server { child, stderr }
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub async fn wait_for_log(&self, needle: &str) {
        eventually(30, &format!("logged {needle:?}"), async || self.log().contains(needle)).await;
    }

    /// Sends the signal `name` (`HUP`, `TERM`, ...).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("still running").to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status();
        assert!(sent.unwrap().success(), "kill -{name} {pid}");
    }

    /// kill -9, as a crash: no shutdown at all; returns once it has exited
    /// (its port free again), with the whole log.
    pub async fn kill(mut self) -> String {
        self.child.start_kill().expect("kill -9");
        within(15, self.child.wait()).await.expect("exits");
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.log()
    }

    /// SIGTERM, then the exit and the whole log.
    pub async fn stop(mut self) -> String {
        self.signal("TERM");
        let exit = within(15, self.child.wait()).await.unwrap();
        assert!(exit.success(), "{exit:?}\n{}", self.log());
        // The reader task drains the pipe once the process has gone.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.log()
    }
}
