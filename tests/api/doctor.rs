//! `orders doctor`, run as the real binary against real servers: a healthy
//! setup passes every check with exit code 0; each broken dependency fails
//! its own line, saying what to do, with exit code 1; what `orders serve`
//! would set up by itself passes, and the checks that need it are skipped.
//!
//! Here the setup every test starts from and the healthy run;
//! `database.rs`: PostgreSQL, the service databases and their schemas;
//! `network.rs`: NATS, SMTP, the listening address; `files.rs`: key and
//! TLS files.

mod database;
mod files;
mod network;

use std::{path::Path, time::Duration};

use crate::{
    local_machine::{run, show},
    smtp::SmtpSink,
    test_database::TestDatabase,
    tokens::{self, AUDIENCE, ISSUER},
};

/// Every check of a process running all three services, in the order
/// printed.
const CHECKS: [&str; 12] = [
    "keys",
    "tls",
    "exposure",
    "address",
    "metrics",
    "postgres",
    "clock",
    "orders-db",
    "payments-db",
    "notifications-db",
    "nats",
    "mail",
];

/// Servers that all answer: the databases (all three migrated), NATS with
/// JetStream, an SMTP server, and a token key.
pub struct Healthy {
    pub orders: TestDatabase,
    pub payments: TestDatabase,
    pub notifications: TestDatabase,
    pub smtp: SmtpSink,
}

impl Healthy {
    pub async fn start() -> Healthy {
        let (payments, notifications) = (TestDatabase::create_empty().await, TestDatabase::create_empty().await);
        orders::payments::db::migrate(&payments.url).await.unwrap();
        orders::notifications::db::migrate(&notifications.url).await.unwrap();
        Healthy {
            orders: TestDatabase::create().await,
            payments,
            notifications,
            smtp: SmtpSink::start(&[]).await,
        }
    }

    /// `orders doctor` with the flags of that setup, each of `changes`
    /// (flag, value) replacing the setup's or added; `--json` alone.
    pub fn args(&self, changes: &[&str]) -> Vec<String> {
        let secret = tokens::secret_file().display().to_string();
        let smtp = self.smtp.url();
        let mut flags: Vec<[&str; 2]> = vec![
            ["--addr", "127.0.0.1:0"],
            ["--metrics-addr", "127.0.0.1:0"],
            ["--nats-url", "nats://127.0.0.1:4222"],
            ["--smtp-url", &smtp],
            ["--payments-database-url", &self.payments.url],
            ["--notifications-database-url", &self.notifications.url],
            ["--auth-hs256-secret-file", &secret],
            ["--auth-issuer", ISSUER],
            ["--auth-audience", AUDIENCE],
        ];
        let mut args = vec!["doctor".to_owned()];
        let mut changes = changes.iter().copied();
        while let Some(flag) = changes.next() {
            if flag == "--json" {
                args.push(flag.to_owned());
                continue;
            }
            let value = changes.next().expect("a value for each flag");
            match flags.iter_mut().find(|[name, _]| *name == flag) {
                Some(pair) => pair[1] = value,
                None => flags.push([flag, value]),
            }
        }
        args.extend(flags.iter().flatten().map(|s| s.to_string()));
        args
    }

    pub async fn doctor(&self, more: &[&str]) -> Doctor {
        doctor(&[("DATABASE_URL", self.orders.url.as_str())], &self.args(more)).await
    }
}

/// What one run printed, and its exit code.
pub struct Doctor {
    pub code: Option<i32>,
    pub lines: Vec<String>,
    pub shown: String,
}

impl Doctor {
    /// The line of the check `name`.
    pub fn line(&self, name: &str) -> &str {
        let found = self
            .lines
            .iter()
            .find(|line| line.get(6..).is_some_and(|rest| rest.starts_with(&format!("{name} "))));
        found.unwrap_or_else(|| panic!("no {name} line in:\n{}", self.shown))
    }

    /// The line of the check `name`, which must have failed with a detail
    /// that begins with `detail_start` and with `fix` after the arrow.
    #[track_caller]
    pub fn failed(&self, name: &str, detail_start: &str, fix: &str) -> &str {
        let line = self.line(name);
        assert!(line.starts_with(&format!("FAIL  {name:<16}  {detail_start}")), "{line}");
        assert!(line.ends_with(&format!(" -> {fix}")), "{line}");
        line
    }

    /// The check names, in the order printed.
    fn names(&self) -> Vec<&str> {
        let checks = &self.lines[..self.lines.len() - 1];
        checks.iter().map(|l| l[6..].split(' ').next().unwrap()).collect()
    }
}

pub async fn doctor(env: &[(&str, &str)], args: &[String]) -> Doctor {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders"));
    command.args(args).envs(env.iter().copied()).env("RUST_LOG", "warn");
    let output = run(&mut command, Duration::from_secs(60)).await;
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    Doctor {
        code: output.status.code(),
        lines: text.lines().map(str::to_owned).collect(),
        shown: show(&output),
    }
}

/// `ok    name              detail` as printed: the status, then the name,
/// in columns.
pub fn ok(name: &str, detail: &str) -> String {
    format!("ok    {name:<16}  {detail}")
}

pub fn fail(name: &str, detail: &str, fix: &str) -> String {
    format!("FAIL  {name:<16}  {detail} -> {fix}")
}

#[tokio::test]
async fn a_healthy_setup_passes_every_check_with_exit_code_0() {
    let setup = Healthy::start().await;
    let run = setup.doctor(&[]).await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
    assert_eq!(run.names(), CHECKS, "{}", run.shown);
    assert!(run.lines[..12].iter().all(|l| l.starts_with("ok    ")), "{}", run.shown);
    assert_eq!(run.lines[12], "all 12 checks passed");
    let keys = format!("1 verifying keys; tokens must name issuer {ISSUER:?} and audience {AUDIENCE:?}");
    assert_eq!(run.line("keys"), ok("keys", &keys));
    assert_eq!(
        run.line("address"),
        ok("address", "127.0.0.1:0: a free port is picked at start")
    );
    let orders_db = format!("{}: schema up to date (13 migrations)", setup.orders.url);
    assert_eq!(run.line("orders-db"), ok("orders-db", &orders_db));
    let payments_db = format!("{}: schema up to date (2 migrations)", setup.payments.url);
    assert_eq!(run.line("payments-db"), ok("payments-db", &payments_db));
    let notifications_db = format!("{}: schema up to date (3 migrations)", setup.notifications.url);
    assert_eq!(run.line("notifications-db"), ok("notifications-db", &notifications_db));
    let mail = format!("SMTP at {} answers", setup.smtp.url());
    assert_eq!(run.line("mail"), ok("mail", &mail));
    assert!(
        run.line("postgres").starts_with("ok    postgres          PostgreSQL 1"),
        "{}",
        run.shown
    );
    assert!(
        run.line("nats").starts_with("ok    nats              NATS 2."),
        "{}",
        run.shown
    );
    assert!(
        run.line("nats").contains("at nats://127.0.0.1:4222, JetStream on ("),
        "{}",
        run.shown
    );

    let json = setup.doctor(&["--json"]).await;
    assert_eq!(json.code, Some(0), "{}", json.shown);
    assert_eq!(json.lines.len(), 1, "one JSON object: {}", json.shown);
    let report: serde_json::Value = serde_json::from_str(&json.lines[0]).unwrap();
    assert_eq!(report["healthy"], true);
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, CHECKS);
    assert_eq!(report["checks"][7]["status"], "ok");
    assert_eq!(report["checks"][7]["detail"], orders_db);
}

/// A path as a flag's value.
pub fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}
