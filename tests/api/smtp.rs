//! A real SMTP server for the notification tests: `tests/smtp_sink.py`
//! (aiosmtpd, from the project's virtualenv) on a free port, writing what
//! it accepts to a folder of its own. It can refuse chosen recipients for
//! good (550) or for now (451), and be killed and started again.

use std::{path::PathBuf, process::Stdio};

use tokio::process::{Child, Command};

use crate::{
    local_machine::{free_port, fresh_dir, python_venv, repo},
    timing::eventually,
};

/// One accepted email, parsed.
#[derive(Debug, Clone)]
pub struct Received {
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.raw).expect("the email is valid MIME")
    }

    pub fn header(&self, name: &str) -> String {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name).unwrap_or_default()
    }

    /// The body of the part of type `mime` (`text/plain`, `text/html`).
    pub fn part(&self, mime: &str) -> String {
        let parsed = self.parsed();
        let found = parsed.subparts.iter().find(|p| p.ctype.mimetype == mime);
        let body = found.map(|p| p.get_body().expect("a decodable part"));
        // MIME lines end in CRLF; the tests compare with the templates' LF.
        body.unwrap_or_default().replace("\r\n", "\n")
    }
}

pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    reject: Vec<String>,
    /// Recipients answered 451 (try again later); change, then restart.
    pub defer: Vec<String>,
    child: Option<Child>,
}

impl SmtpSink {
    /// Starts the sink, refusing `reject` with 550.
    pub async fn start(reject: &[&str]) -> SmtpSink {
        let mut sink = SmtpSink {
            port: free_port(),
            dir: fresh_dir("smtp"),
            reject: reject.iter().map(|r| r.to_string()).collect(),
            defer: Vec::new(),
            child: None,
        };
        sink.restart().await;
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub async fn restart(&mut self) {
        let python = python_venv().await.join("bin/python");
        let mut command = Command::new(python);
        command
            .arg(repo().join("tests/smtp_sink.py"))
            .arg("--port")
            .arg(self.port.to_string());
        command.arg("--dir").arg(&self.dir);
        for address in &self.reject {
            command.arg("--reject").arg(address);
        }
        for address in &self.defer {
            command.arg("--defer").arg(address);
        }
        command.kill_on_drop(true).stdout(Stdio::null()).stderr(Stdio::null());
        self.child = Some(command.spawn().expect("the SMTP sink starts"));
        let addr = format!("127.0.0.1:{}", self.port);
        eventually(20, "the SMTP sink answering", || async {
            tokio::net::TcpStream::connect(&addr).await.is_ok()
        })
        .await;
    }

    /// kill -9: the server is gone, connections are refused.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kills the SMTP sink");
        }
    }

    /// Everything accepted so far, in the order it arrived.
    pub fn received(&self) -> Vec<Received> {
        let mut numbered: Vec<(u64, PathBuf)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .filter_map(|p| Some((p.file_stem()?.to_str()?.parse().ok()?, p)))
            .collect();
        numbered.sort();
        let read = |path: &PathBuf| Received {
            raw: std::fs::read(path).expect("reads an email"),
            recipients: std::fs::read_to_string(path.with_extension("rcpt"))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect(),
        };
        numbered.iter().map(|(_, path)| read(path)).collect()
    }

    /// Waits until at least `count` emails arrived, then returns them all.
    pub async fn wait_for(&self, count: usize, seconds: u64) -> Vec<Received> {
        let what = format!("{count} emails at the SMTP sink");
        eventually(seconds, &what, || async { self.received().len() >= count }).await;
        self.received()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
