//! A private load balancer in front of the replicas, nginx or HAProxy,
//! configured by the file the project ships (deploy/nginx/orders.conf,
//! deploy/haproxy/orders.cfg) with only its placeholders filled in, as
//! `scripts/cluster` does: its own pid file, logs and temp files in a fresh
//! directory, in the foreground, stopped on drop with SIGTERM (a SIGKILL
//! would leave nginx's worker process listening) and its directory deleted.
//!
//! The programs come from `scripts/install-nginx` and
//! `scripts/install-haproxy` (found, or installed from Debian's packages):
//! a machine without them fails the test loudly.

use std::{fs::File, net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};

use tokio::process::{Child, Command};
use tonic::transport::Channel;

use crate::{
    local_machine::{free_port, fresh_dir, path_printed_by, repo},
    timing::within,
};

/// A cold `apt-get install` downloads a few MB; the lock may wait for
/// another test's install.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Nginx,
    Haproxy,
}

impl Kind {
    fn template(self) -> &'static str {
        match self {
            Kind::Nginx => "deploy/nginx/orders.conf",
            Kind::Haproxy => "deploy/haproxy/orders.cfg",
        }
    }

    pub async fn program(self) -> PathBuf {
        let installer = match self {
            Kind::Nginx => "scripts/install-nginx",
            Kind::Haproxy => "scripts/install-haproxy",
        };
        path_printed_by(installer, INSTALL_TIMEOUT).await
    }

    /// The command that runs it in the foreground with `conf`.
    async fn command(self, dir: &std::path::Path, conf: &std::path::Path) -> Command {
        let mut command = Command::new(self.program().await);
        match self {
            Kind::Nginx => command.arg("-p").arg(dir).arg("-c").arg(conf),
            Kind::Haproxy => command.arg("-db").arg("-f").arg(conf),
        };
        command
    }
}

/// The shipped configuration of `kind` for `upstreams`, listening on
/// `listen`, with its files in `dir`: each `@REPLICA@` line once per
/// upstream, `@N@` on it the upstream's number from 1.
pub fn render(kind: Kind, listen: &str, dir: &str, upstreams: &[SocketAddr]) -> String {
    let template = std::fs::read_to_string(repo().join(kind.template())).unwrap();
    let mut conf = String::new();
    for line in template.lines() {
        if line.contains("@REPLICA@") {
            for (i, upstream) in upstreams.iter().enumerate() {
                conf += &line
                    .replace("@REPLICA@", &upstream.to_string())
                    .replace("@N@", &(i + 1).to_string());
                conf.push('\n');
            }
        } else {
            conf += &line.replace("@RUN_DIR@", dir).replace("@LISTEN@", listen);
            conf.push('\n');
        }
    }
    conf
}

pub struct Balancer {
    pub addr: SocketAddr,
    dir: PathBuf,
    process: Child,
}

impl Balancer {
    /// Starts `kind` in front of `upstreams` and waits until it accepts.
    pub async fn start(kind: Kind, upstreams: &[SocketAddr]) -> Balancer {
        let dir = fresh_dir(&format!("{kind:?}").to_lowercase());
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let conf = dir.join("balancer.conf");
        std::fs::write(&conf, render(kind, &addr.to_string(), dir.to_str().unwrap(), upstreams)).unwrap();
        let stderr = File::create(dir.join("stderr.log")).unwrap();
        let process = (kind.command(&dir, &conf).await)
            .stdin(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{kind:?} starts: {e}"));
        within(10, async {
            while tokio::net::TcpStream::connect(addr).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        Balancer { addr, dir, process }
    }

    /// A channel to the balancer, as a caller of the service would open one.
    pub async fn channel(&self) -> Channel {
        crate::app::connect_channel(self.addr).await
    }

    /// The balancer's logs (one line per call, with the replica it went
    /// to), for a failure message.
    pub fn logs(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        let logs = ["access.log", "error.log", "stderr.log"].map(|name| format!("--- {name} ---\n{}", read(name)));
        logs.concat()
    }
}

impl Drop for Balancer {
    /// SIGTERM, then the exit (nginx's master stops its worker first), then
    /// its directory goes: a failed assertion has shown the logs already.
    fn drop(&mut self) {
        if let Some(pid) = self.process.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            for _ in 0..250 {
                if !matches!(self.process.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
