//! Secure defaults and secrets: the server refuses to serve the network
//! without authentication unless told `--insecure` (and then warns), a bad
//! key configuration fails the start with a clear line that never shows
//! the secret, `orders token` mints tokens the server accepts, and neither
//! the secret nor any token ever reaches the log, even at debug level.

use orders::startup::{Application, StartupError};
use tokio::process::Command;
use tonic::Code;

use crate::{
    app::{Clients, spawn_secured_app, test_settings},
    assertions::assert_error,
    binary::Server,
    local_machine::{free_port, fresh_dir},
    test_database::TestDatabase,
    timing::within,
    tokens::{self, HS256_SECRET, Signer, claims, now, sign},
};

/// Builds the app with the test settings as `configure` changes them.
async fn build(configure: impl FnOnce(&mut orders::config::Settings)) -> Result<Application, StartupError> {
    let database = TestDatabase::create().await;
    let mut settings = test_settings(&database.url);
    configure(&mut settings);
    Application::build(settings).await
}

fn all_interfaces(settings: &mut orders::config::Settings) {
    settings.addr = "0.0.0.0:0".parse().unwrap();
}

#[tokio::test]
async fn the_network_is_served_without_authentication_only_when_asked_to() {
    let Err(refused) = build(all_interfaces).await else {
        panic!("served 0.0.0.0 without authentication");
    };
    assert!(matches!(refused, StartupError::Insecure(_)), "{refused:?}");
    let message = refused.to_string();
    assert!(
        message.starts_with("refusing to serve 0.0.0.0:0 without authentication"),
        "{message}"
    );
    assert!(message.contains("--insecure"), "{message}");

    build(|s| {
        all_interfaces(s);
        s.security.insecure = true;
    })
    .await
    .expect("--insecure allows it");
    build(|s| {
        all_interfaces(s);
        tokens::require_tokens(s);
    })
    .await
    .expect("with authentication, any address");
}

#[tokio::test]
async fn a_bad_key_configuration_fails_the_start_in_one_clear_line() {
    let dir = fresh_dir("bad-keys");
    let short = dir.join("short-secret");
    std::fs::write(&short, "hunter2-is-not-enough\n").unwrap();
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, "{ not json").unwrap();
    type Edit = Box<dyn FnOnce(&mut orders::config::Settings)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|s| s.security.auth.auth_issuer = None),
            "authentication needs --auth-issuer and --auth-audience",
        ),
        (
            Box::new(move |s| s.security.auth.auth_hs256_secret_file = Some(short)),
            "an HS256 secret must be at least 32 bytes (this one has 21)",
        ),
        (
            Box::new({
                let garbage = garbage.clone();
                move |s| s.security.auth.auth_jwks = Some(garbage)
            }),
            "not a JWKS",
        ),
        (
            Box::new(move |s| s.security.auth.auth_public_key = vec![garbage]),
            "not a PEM RSA or Ed25519 public key",
        ),
        (
            Box::new(|s| s.security.auth.auth_jwks = Some("/nonexistent/jwks.json".into())),
            "could not read /nonexistent/jwks.json",
        ),
    ];
    for (edit, says) in cases {
        let Err(error) = build(|s| {
            tokens::require_tokens(s);
            edit(s);
        })
        .await
        else {
            panic!("started despite a configuration that should say {says:?}");
        };
        let message = error.to_string();
        assert!(message.contains(says), "{message:?} lacks {says:?}");
        assert!(!message.contains("hunter2"), "the secret is shown: {message}");
        assert!(!message.contains('\n'), "one line: {message:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_binary_refuses_the_network_unauthenticated_and_warns_loudly_when_insecure() {
    let database = TestDatabase::create().await;
    let refused = Command::new(env!("CARGO_BIN_EXE_orders"))
        // Events and notifications are tested in events.rs and notifications.rs.
        .env("ORDERS_OUTBOX_RELAY", "false")
        .env("ORDERS_SERVICES", "orders")
        .args(["--addr", "0.0.0.0:0"])
        .env("DATABASE_URL", &database.url)
        .output();
    let refused = within(30, refused).await.unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.starts_with("orders: refusing to serve 0.0.0.0:0 without authentication"),
        "{stderr}"
    );

    let addr = format!("0.0.0.0:{}", free_port());
    let server = Server::start(&database.url, &["--addr", &addr, "--insecure"], &[("RUST_LOG", "info")]);
    server.wait_for_log("orders is serving gRPC").await;
    let log = server.stop().await;
    let warning = log
        .lines()
        .find(|l| l.contains("INSECURE"))
        .unwrap_or_else(|| panic!("no warning in:\n{log}"));
    assert!(
        warning.contains("WARN") && warning.contains("WITHOUT AUTHENTICATION"),
        "{warning}"
    );
}

#[tokio::test]
async fn orders_token_mints_tokens_the_server_accepts() {
    let app = spawn_secured_app().await;
    let secret = tokens::secret_file();
    let env = [
        ("ORDERS_AUTH_HS256_SECRET_FILE", secret.to_str().unwrap()),
        ("ORDERS_AUTH_ISSUER", tokens::ISSUER),
        ("ORDERS_AUTH_AUDIENCE", tokens::AUDIENCE),
    ];
    let mint = |args: &'static [&'static str]| {
        Command::new(env!("CARGO_BIN_EXE_orders"))
            // Events are tested in events.rs, each test with a stream of its
            // own, and notifications in notifications.rs.
            .env("ORDERS_OUTBOX_RELAY", "false")
            .env("ORDERS_SERVICES", "orders")
            .arg("token")
            .args(args)
            .envs(env)
            .output()
    };
    let minted = within(30, mint(&["--subject", "alice", "--role", "customer"]))
        .await
        .unwrap();
    assert!(minted.status.success(), "{}", String::from_utf8_lossy(&minted.stderr));
    let token = String::from_utf8(minted.stdout).unwrap();
    let alice = app.with_token(token.trim());
    history_of(&alice, "alice").await.expect("alice reads her own history");
    let status = history_of(&alice, "bob").await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "CUSTOMER_MISMATCH");

    let wrong = within(30, mint(&["--subject", "x", "--role", "superuser"]))
        .await
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&wrong.stderr),
        "orders token: unknown role \"superuser\"; the roles are customer, warehouse, catalog-admin, service, auditor\n"
    );
}

async fn history_of(clients: &Clients, customer_id: &str) -> Result<(), tonic::Status> {
    let request = orders::proto::GetOrderHistoryRequest {
        customer_id: customer_id.to_owned(),
        ..Default::default()
    };
    clients.orders.clone().get_order_history(request).await.map(drop)
}

#[tokio::test]
async fn neither_the_secret_nor_any_token_reaches_the_log() {
    let database = TestDatabase::create().await;
    let addr = format!("127.0.0.1:{}", free_port());
    let secret = tokens::secret_file();
    let jwks = tokens::fixture("jwks.json");
    let args = [
        "--addr",
        &addr,
        "--auth-jwks",
        jwks.to_str().unwrap(),
        "--auth-hs256-secret-file",
        secret.to_str().unwrap(),
        "--auth-issuer",
        tokens::ISSUER,
        "--auth-audience",
        tokens::AUDIENCE,
    ];
    let server = Server::start(&database.url, &args, &[("RUST_LOG", "debug")]);
    server.wait_for_log("orders is serving gRPC").await;
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let good = sign(Signer::Hs256, &claims("alice", &["customer"]));
    let mut expired = claims("alice", &["customer"]);
    expired["exp"] = (now() - 3600).into();
    let expired = sign(Signer::Hs256, &expired);
    let forged = sign(Signer::Untrusted, &claims("alice", &["customer"]));
    for token in [&good, &expired, &forged] {
        let clients = Clients::new(channel.clone(), crate::app::Bearer::token(token));
        let _ = history_of(&clients, "alice").await;
    }
    let log = server.stop().await;
    let calls: Vec<&str> = log.lines().filter(|l| l.contains("GetOrderHistory")).collect();
    assert_eq!(calls.len(), 3, "one line per call:\n{log}");
    assert!(
        calls.iter().any(|l| l.contains("caller=\"alice\"")),
        "the verified caller is named:\n{log}"
    );
    assert!(!log.contains(HS256_SECRET), "the secret is in the log");
    for token in [&good, &expired, &forged] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!log.contains(signature), "a token is in the log:\n{log}");
    }
}
