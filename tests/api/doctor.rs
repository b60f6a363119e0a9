//! `orders doctor`, run as the real binary against real servers: a healthy
//! setup passes every check with exit code 0; each broken dependency fails
//! its own line, saying what to do, with exit code 1; what `orders serve`
//! would set up by itself passes, and the checks that need it are skipped.

use std::{path::Path, time::Duration};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::{
    local_machine::{free_port, fresh_dir, run, show},
    nats::PrivateNats,
    smtp::SmtpSink,
    test_database::TestDatabase,
    tokens::{self, AUDIENCE, ISSUER},
};

/// Every check of a process running both services, in the order printed.
const CHECKS: [&str; 10] = [
    "keys",
    "tls",
    "exposure",
    "address",
    "postgres",
    "clock",
    "orders-db",
    "notifications-db",
    "nats",
    "mail",
];

/// Servers that all answer: the databases (both migrated), NATS with
/// JetStream, an SMTP server, and a token key.
struct Healthy {
    orders: TestDatabase,
    notifications: TestDatabase,
    smtp: SmtpSink,
}

impl Healthy {
    async fn start() -> Healthy {
        let notifications = TestDatabase::create_empty().await;
        orders::notifications::db::migrate(&notifications.url).await.unwrap();
        Healthy {
            orders: TestDatabase::create().await,
            notifications,
            smtp: SmtpSink::start(&[]).await,
        }
    }

    /// `orders doctor` with the flags of that setup, each of `changes`
    /// (flag, value) replacing the setup's or added; `--json` alone.
    fn args(&self, changes: &[&str]) -> Vec<String> {
        let secret = tokens::secret_file().display().to_string();
        let smtp = self.smtp.url();
        let mut flags: Vec<[&str; 2]> = vec![
            ["--addr", "127.0.0.1:0"],
            ["--nats-url", "nats://127.0.0.1:4222"],
            ["--smtp-url", &smtp],
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

    async fn doctor(&self, more: &[&str]) -> Doctor {
        doctor(&[("DATABASE_URL", self.orders.url.as_str())], &self.args(more)).await
    }
}

/// What one run printed, and its exit code.
struct Doctor {
    code: Option<i32>,
    lines: Vec<String>,
    shown: String,
}

impl Doctor {
    /// The line of the check `name`.
    fn line(&self, name: &str) -> &str {
        let found = self
            .lines
            .iter()
            .find(|line| line.get(6..).is_some_and(|rest| rest.starts_with(&format!("{name} "))));
        found.unwrap_or_else(|| panic!("no {name} line in:\n{}", self.shown))
    }

    /// The check names, in the order printed.
    fn names(&self) -> Vec<&str> {
        let checks = &self.lines[..self.lines.len() - 1];
        checks.iter().map(|l| l[6..].split(' ').next().unwrap()).collect()
    }
}

async fn doctor(env: &[(&str, &str)], args: &[String]) -> Doctor {
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
fn ok(name: &str, detail: &str) -> String {
    format!("ok    {name:<16}  {detail}")
}

fn fail(name: &str, detail: &str, fix: &str) -> String {
    format!("FAIL  {name:<16}  {detail} -> {fix}")
}

#[tokio::test]
async fn a_healthy_setup_passes_every_check_with_exit_code_0() {
    let setup = Healthy::start().await;
    let run = setup.doctor(&[]).await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
    assert_eq!(run.names(), CHECKS, "{}", run.shown);
    assert!(run.lines[..10].iter().all(|l| l.starts_with("ok    ")), "{}", run.shown);
    assert_eq!(run.lines[10], "all 10 checks passed");
    let keys = format!("1 verifying keys; tokens must name issuer {ISSUER:?} and audience {AUDIENCE:?}");
    assert_eq!(run.line("keys"), ok("keys", &keys));
    assert_eq!(
        run.line("address"),
        ok("address", "127.0.0.1:0: a free port is picked at start")
    );
    let orders_db = format!("{}: schema up to date (9 migrations)", setup.orders.url);
    assert_eq!(run.line("orders-db"), ok("orders-db", &orders_db));
    let notifications_db = format!("{}: schema up to date (2 migrations)", setup.notifications.url);
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
    assert_eq!(report["checks"][6]["status"], "ok");
    assert_eq!(report["checks"][6]["detail"], orders_db);
}

#[tokio::test]
async fn a_database_server_that_does_not_answer_fails_and_what_needs_it_is_skipped() {
    let setup = Healthy::start().await;
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/orders", free_port());
    let run = doctor(&[("DATABASE_URL", &nowhere)], &setup.args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let postgres = run.line("postgres");
    assert!(
        postgres.starts_with(&format!("FAIL  postgres          cannot connect to {nowhere}: ")),
        "{postgres}"
    );
    assert!(
        postgres.ends_with(" -> start PostgreSQL there, or correct DATABASE_URL (--database-url)"),
        "{postgres}"
    );
    assert_eq!(run.line("clock"), "skip  clock             PostgreSQL is not reachable");
    assert_eq!(
        run.line("orders-db"),
        "skip  orders-db         needs the PostgreSQL server above"
    );
    // Its own URL, on a server that answers, is still checked.
    assert!(run.line("notifications-db").starts_with("ok    "), "{}", run.shown);
    assert_eq!(run.lines.last().unwrap(), "1 of 10 checks failed");
}

#[tokio::test]
async fn a_configured_database_that_does_not_exist_fails_with_how_to_create_it() {
    let setup = Healthy::start().await;
    let name = format!("orders_doctor_missing_{}", std::process::id());
    let missing = orders::db::launcher::with_database(&setup.orders.url, &name);
    let run = doctor(&[("DATABASE_URL", &missing)], &setup.args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    assert!(run.line("postgres").starts_with("ok    "), "{}", run.shown);
    let detail = format!("{missing}: database {name:?} does not exist");
    let fix = format!("create it (`createdb {name}`), or correct DATABASE_URL (--database-url)");
    assert_eq!(run.line("orders-db"), fail("orders-db", &detail, &fix));
}

#[tokio::test]
async fn pending_migrations_pass_and_a_schema_migrated_by_a_newer_binary_fails() {
    let setup = Healthy::start().await;
    let empty = TestDatabase::create_empty().await;
    let run = doctor(&[("DATABASE_URL", &empty.url)], &setup.args(&[])).await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
    let pending = format!(
        "{}: 9 of 9 migrations pending; `orders serve` (or `orders migrate`) applies them",
        empty.url
    );
    assert_eq!(run.line("orders-db"), ok("orders-db", &pending));

    let mut conn = AsyncPgConnection::establish(&setup.orders.url).await.unwrap();
    conn.batch_execute("INSERT INTO __diesel_schema_migrations (version) VALUES ('20991231000001')")
        .await
        .unwrap();
    let run = setup.doctor(&[]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let detail = format!(
        "{} has migrations this binary does not know (20991231000001): a newer orders migrated it",
        setup.orders.url
    );
    let fix = "run the newer orders, or restore the database from before its migrations";
    assert_eq!(run.line("orders-db"), fail("orders-db", &detail, fix));
}

#[tokio::test]
async fn nats_that_does_not_answer_or_lacks_jetstream_fails() {
    let setup = Healthy::start().await;
    let port = free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let run = setup.doctor(&["--nats-url", &url]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let nats = run.line("nats");
    assert!(
        nats.starts_with(&format!("FAIL  nats              cannot connect to NATS at {url}: ")),
        "{nats}"
    );
    assert!(
        nats.ends_with(" -> start NATS there, or correct --nats-url (ORDERS_NATS_URL)"),
        "{nats}"
    );

    // The same port, now a NATS server without JetStream.
    let _plain = plain_nats_server(port).await;
    let run = setup.doctor(&["--nats-url", &url]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let nats = run.line("nats");
    assert!(nats.starts_with("FAIL  nats              NATS 2."), "{nats}");
    assert!(
        nats.contains(&format!(" at {url} answers, JetStream does not: ")),
        "{nats}"
    );
    assert!(
        nats.ends_with(
            " -> enable JetStream on that server (`nats-server -js`, or `jetstream {}` in its configuration)"
        ),
        "{nats}"
    );

    // With JetStream it passes (and nothing else failed meanwhile).
    let jetstream = PrivateNats::start().await;
    let run = setup.doctor(&["--nats-url", &jetstream.url()]).await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
}

async fn plain_nats_server(port: u16) -> tokio::process::Child {
    let mut command = tokio::process::Command::new("nats-server");
    command
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .kill_on_drop(true);
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let child = command.spawn().expect("nats-server is installed");
    crate::timing::eventually(10, "the plain NATS answering", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
    })
    .await;
    child
}

#[tokio::test]
async fn an_smtp_server_that_does_not_answer_fails_mail() {
    let setup = Healthy::start().await;
    let url = format!("smtp://127.0.0.1:{}", free_port());
    let run = setup.doctor(&["--smtp-url", &url]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let mail = run.line("mail");
    assert!(
        mail.starts_with(&format!("FAIL  mail              SMTP at {url}: ")),
        "{mail}"
    );
    assert!(
        mail.ends_with(" -> start the mail server, or correct --smtp-url"),
        "{mail}"
    );
    assert_eq!(run.lines.last().unwrap(), "1 of 10 checks failed");
}

#[tokio::test]
async fn key_and_tls_files_that_are_missing_or_broken_fail_their_lines() {
    let setup = Healthy::start().await;
    let run = setup.doctor(&["--auth-jwks", "/nonexistent/jwks.json"]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let keys = run.line("keys");
    assert!(keys.starts_with("FAIL  keys              "), "{keys}");
    assert!(keys.contains("/nonexistent/jwks.json"), "names the file: {keys}");
    assert!(
        keys.ends_with(" -> correct the --auth-* setting or the file it names"),
        "{keys}"
    );

    let dir = fresh_dir("doctor-tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, "not a certificate\n").unwrap();
    std::fs::write(&key, "not a key\n").unwrap();
    let run = setup
        .doctor(&["--tls-cert", path(&cert), "--tls-key", path(&key)])
        .await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let detail = format!(
        "--tls-cert {}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        cert.display()
    );
    assert_eq!(
        run.line("tls"),
        fail("tls", &detail, "correct the file, or the --tls-* setting")
    );
    assert_eq!(run.lines.last().unwrap(), "1 of 10 checks failed");
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test]
async fn an_address_in_use_fails_and_serving_the_network_unauthenticated_fails() {
    let setup = Healthy::start().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let run = setup.doctor(&["--addr", &addr.to_string()]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let detail = format!("cannot listen on {addr}: Address already in use (os error 98)");
    let fix = format!(
        "stop what listens there (`ss -ltnp 'sport = :{}'`), or choose another --addr",
        addr.port()
    );
    assert_eq!(run.line("address"), fail("address", &detail, &fix));

    let run = doctor(
        &[("DATABASE_URL", &setup.orders.url)],
        &["doctor", "--addr", "0.0.0.0:0", "--nats-url", "nats://127.0.0.1:4222"].map(String::from),
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let fix = "configure --auth-jwks, --auth-public-key or --auth-hs256-secret-file, listen on a loopback \
               address, or pass --insecure to accept the risk";
    let detail = "0.0.0.0:0 is not loopback and no authentication is configured: `orders serve` refuses to start";
    assert_eq!(run.line("exposure"), fail("exposure", detail, fix));
}

#[tokio::test]
async fn without_a_database_url_a_postgres_that_serve_would_start_passes_and_its_checks_wait() {
    let setup = Healthy::start().await;
    let data_dir = fresh_dir("doctor-pgdata").join("pgdata");
    let dead = free_port().to_string();
    // No server on PGPORT and no private cluster in the data directory.
    let env = [
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", dead.as_str()),
        ("ORDERS_DATA_DIR", path(&data_dir)),
    ];
    let mut args = setup.args(&[]);
    // Its own database URL would still be checked; here it follows the orders one.
    let at = args.iter().position(|a| a == "--notifications-database-url").unwrap();
    args.drain(at..at + 2);
    let run = doctor(&env, &args).await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
    let postgres = run.line("postgres");
    let starts = format!(
        "ok    postgres          none runs here; `orders serve` starts a private cluster in {} (",
        data_dir.display()
    );
    assert!(postgres.starts_with(&starts), "{postgres}");
    assert_eq!(
        run.line("clock"),
        "skip  clock             PostgreSQL starts with `orders serve`"
    );
    assert_eq!(
        run.line("orders-db"),
        "skip  orders-db         needs the PostgreSQL server above"
    );
    assert_eq!(
        run.line("notifications-db"),
        "skip  notifications-db  needs the PostgreSQL server above"
    );
    assert!(!data_dir.exists(), "the doctor started nothing");
}

#[tokio::test]
async fn tls_files_pass_with_their_expiry_dates_and_an_expired_certificate_fails() {
    let setup = Healthy::start().await;
    let certs = crate::certs::Certs::new();
    let (cert, key, ca) = (&certs.server.cert_path, &certs.server.key_path, &certs.ca.cert_path);
    let run = setup
        .doctor(&[
            "--tls-cert",
            path(cert),
            "--tls-key",
            path(key),
            "--tls-client-ca",
            path(ca),
        ])
        .await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
    let valid = format!(
        "ok    tls               certificate and key valid; client certificates required; --tls-cert {} expires ",
        cert.display()
    );
    let tls = run.line("tls");
    assert!(tls.starts_with(&valid), "{tls}");
    assert!(
        tls.contains(&format!("; --tls-client-ca {} expires ", ca.display())),
        "{tls}"
    );

    let dir = fresh_dir("doctor-expired");
    let (expired, expired_key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let pair = rcgen::KeyPair::generate().unwrap();
    std::fs::write(&expired, params.self_signed(&pair).unwrap().pem()).unwrap();
    std::fs::write(&expired_key, pair.serialize_pem()).unwrap();
    let run = setup
        .doctor(&["--tls-cert", path(&expired), "--tls-key", path(&expired_key)])
        .await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let detail = format!("--tls-cert {} expired on 2021-01-01 00:00 UTC", expired.display());
    let fix = "renew the certificate, or correct the --tls-* setting";
    assert_eq!(run.line("tls"), fail("tls", &detail, fix));
}
