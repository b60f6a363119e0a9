//! A private nginx in front of the replicas, configured by the file the
//! project ships (deploy/nginx/orders.conf) with only its placeholders
//! filled in, as `scripts/cluster` does: its own prefix, pid file, logs and
//! temp files in a fresh directory, in the foreground, stopped on drop
//! with SIGTERM (a SIGKILL would leave its worker process listening).
//!
//! nginx itself comes from `scripts/install-nginx` (found, or installed
//! from Debian's package): a machine without it fails the test loudly.

use std::{net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};

use tokio::process::{Child, Command};
use tonic::transport::Channel;

use crate::{
    local_machine::{free_port, fresh_dir, path_printed_by, repo},
    timing::within,
};

/// A cold `apt-get install nginx` downloads about 1 MB; the lock may wait
/// for another test's install.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

pub struct Nginx {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    process: Child,
}

/// The shipped configuration for `upstreams`, listening on `listen`, with
/// its files in `dir`: each `@REPLICA@` line once per upstream.
pub fn render(listen: &str, dir: &str, upstreams: &[SocketAddr]) -> String {
    let template = std::fs::read_to_string(repo().join("deploy/nginx/orders.conf")).unwrap();
    let mut conf = String::new();
    for line in template.lines() {
        if line.contains("@REPLICA@") {
            for upstream in upstreams {
                conf += &line.replace("@REPLICA@", &upstream.to_string());
                conf.push('\n');
            }
        } else {
            conf += &line.replace("@RUN_DIR@", dir).replace("@LISTEN@", listen);
            conf.push('\n');
        }
    }
    conf
}

impl Nginx {
    /// Starts nginx in front of `upstreams` and waits until it accepts.
    pub async fn start(upstreams: &[SocketAddr]) -> Nginx {
        let nginx = path_printed_by("scripts/install-nginx", INSTALL_TIMEOUT).await;
        let dir = fresh_dir("nginx");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, render(&addr.to_string(), dir.to_str().unwrap(), upstreams)).unwrap();
        let process = Command::new(nginx)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx starts");
        within(10, async {
            while tokio::net::TcpStream::connect(addr).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        Nginx { addr, dir, process }
    }

    /// A channel to nginx, as a caller of the service would open one.
    pub async fn channel(&self) -> Channel {
        crate::app::connect_channel(self.addr).await
    }

    /// nginx's access log (one line per call, with the replica it went to)
    /// and error log, for a failure message.
    pub fn logs(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        format!(
            "--- access.log ---\n{}--- error.log ---\n{}",
            read("access.log"),
            read("error.log")
        )
    }
}

impl Drop for Nginx {
    /// SIGTERM to the master, which stops its worker, then its exit.
    fn drop(&mut self) {
        let Some(pid) = self.process.id() else { return };
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        for _ in 0..250 {
            if !matches!(self.process.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
