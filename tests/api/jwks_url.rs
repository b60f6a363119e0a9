//! Keys fetched from `--auth-jwks-url` (issue 20): a key the identity
//! provider adds is trusted at the first token that names it, a key it
//! removes stops counting at the next refresh, a provider that goes away
//! leaves the last good keys working (and says so in health), tokens with
//! made-up `kid`s cannot make the server fetch more than once per interval,
//! the URL's keys and the files' verify together (either source changing
//! leaves the other's), and a URL that is not HTTPS (or cannot be fetched
//! at start) stops the start. The provider is [`server::JwksServer`], inside the test.

mod server;

use std::time::Duration;

use orders::{config::AuthSettings, startup::Application};
use tonic::Code;
use tonic_health::{ServingStatus, pb::HealthCheckRequest};

use crate::{
    api_calls::list_products_as,
    app::{TestApp, spawn_app_with, test_settings},
    assertions::assert_error,
    certs::Certs,
    local_machine::{free_port, fresh_dir, run, show},
    timing::{concurrently, eventually},
    tokens::{AUDIENCE, HS256_SECRET, ISSUER, Signer, claims, sign, sign_naming},
};
use server::JwksServer;

/// The health entry of the key source.
const KEY_SOURCE: &str = "orders.auth.KeySource";

/// Settings that take keys from `url` alone, refreshed at most every
/// 100 ms, after `configure`.
fn fetching_from(url: String, configure: impl FnOnce(&mut AuthSettings)) -> impl FnOnce(&mut orders::config::Settings) {
    move |settings| {
        let auth = &mut settings.security.auth;
        auth.auth_jwks_url = Some(url);
        auth.auth_issuer = Some(ISSUER.to_owned());
        auth.auth_audience = Some(AUDIENCE.to_owned());
        auth.auth_jwks_refresh_min = Duration::from_millis(100);
        configure(auth);
    }
}

/// A server whose keys come from `jwks`, after `configure`.
async fn spawn_fetching_from(jwks: &JwksServer, configure: impl FnOnce(&mut AuthSettings)) -> TestApp {
    spawn_app_with(fetching_from(jwks.url(), configure)).await
}

/// The health status `service` reports.
async fn health_of(app: &TestApp, service: &str) -> ServingStatus {
    let request = HealthCheckRequest {
        service: service.into(),
    };
    let response = app.health.clone().check(request).await.expect("health answers");
    match response.into_inner().status {
        1 => ServingStatus::Serving,
        2 => ServingStatus::NotServing,
        other => panic!("unexpected health status {other}"),
    }
}

#[tokio::test]
async fn a_key_added_to_the_served_jwks_is_trusted_at_the_first_token_that_names_it() {
    // The answers may be cached for an hour: only the unknown kid fetches.
    let jwks = JwksServer::start(&["rsa-2026"], 3600).await;
    let app = spawn_fetching_from(&jwks, |_| {}).await;
    let rsa = app.with_token(&sign(Signer::Rsa, &claims("alice", &["customer"])));
    list_products_as(&rsa).await.expect("the served RSA key is trusted");
    assert_eq!(jwks.requests(), 1, "fetched once, at start");

    jwks.serve(&["rsa-2026", "ed-2026"]);
    let ed = app.with_token(&sign(Signer::Ed25519, &claims("bob", &["customer"])));
    list_products_as(&ed)
        .await
        .expect("the added key is fetched for the first token naming it, without a restart");
    assert_eq!(jwks.requests(), 2, "one fetch, for the unknown kid");
    list_products_as(&rsa).await.expect("the RSA key is still trusted");
    assert_eq!(jwks.requests(), 2, "known keys fetch nothing");
}

#[tokio::test]
async fn a_key_removed_from_the_served_jwks_is_refused_after_the_next_refresh() {
    let jwks = JwksServer::start(&["rsa-2026", "ed-2026"], 1).await;
    let app = spawn_fetching_from(&jwks, |_| {}).await;
    let rsa = app.with_token(&sign(Signer::Rsa, &claims("alice", &["customer"])));
    let ed = app.with_token(&sign(Signer::Ed25519, &claims("bob", &["customer"])));
    list_products_as(&rsa)
        .await
        .expect("trusted, and remembered as verified");

    jwks.serve(&["ed-2026"]);
    eventually(10, "the removed RSA key refused", async || {
        list_products_as(&rsa).await.is_err()
    })
    .await;
    let refused = list_products_as(&rsa).await.unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "TOKEN_ALGORITHM_REJECTED");
    assert!(jwks.requests() >= 2, "refreshed, not refused at once");
    list_products_as(&ed).await.expect("the key still served is trusted");
}

#[tokio::test]
async fn a_key_source_that_goes_away_leaves_the_cached_keys_working_and_shows_in_health() {
    // max-age 0: refreshed every --auth-jwks-refresh-min (100 ms).
    let jwks = JwksServer::start(&["rsa-2026"], 0).await;
    let app = spawn_fetching_from(&jwks, |_| {}).await;
    assert_eq!(health_of(&app, KEY_SOURCE).await, ServingStatus::Serving);

    jwks.stop();
    eventually(10, "the key source NOT_SERVING", async || {
        health_of(&app, KEY_SOURCE).await == ServingStatus::NotServing
    })
    .await;
    // A token never seen before: its signature is checked with the keys
    // fetched last.
    let carol = app.with_token(&sign(Signer::Rsa, &claims("carol", &["customer"])));
    list_products_as(&carol)
        .await
        .expect("the cached keys still verify new tokens");
    assert_eq!(
        health_of(&app, "").await,
        ServingStatus::Serving,
        "the server still serves"
    );

    jwks.restart().await;
    eventually(10, "the key source SERVING again", async || {
        health_of(&app, KEY_SOURCE).await == ServingStatus::Serving
    })
    .await;
    list_products_as(&carol).await.expect("still trusted");
}

#[tokio::test]
async fn a_failed_fetch_for_an_unknown_kid_shows_in_health_until_the_source_answers_again() {
    // Cacheable for an hour: only the failure schedule can notice the return.
    let jwks = JwksServer::start(&["rsa-2026"], 3600).await;
    let app = spawn_fetching_from(&jwks, |_| {}).await;
    jwks.stop();
    let ed = app.with_token(&sign(Signer::Ed25519, &claims("bob", &["customer"])));
    let refused = list_products_as(&ed).await.unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "TOKEN_ALGORITHM_REJECTED");
    assert_eq!(health_of(&app, KEY_SOURCE).await, ServingStatus::NotServing);

    jwks.restart().await;
    eventually(10, "the key source SERVING again", async || {
        health_of(&app, KEY_SOURCE).await == ServingStatus::Serving
    })
    .await;
}

#[tokio::test]
async fn the_url_and_the_files_verify_together_and_a_file_read_again_keeps_the_fetched_keys() {
    let jwks = JwksServer::start(&["rsa-2026"], 3600).await;
    let secret = fresh_dir("jwks-url-union").join("hs256-secret");
    std::fs::write(&secret, HS256_SECRET).unwrap();
    let file = secret.clone();
    let app = spawn_fetching_from(&jwks, |auth| {
        auth.auth_hs256_secret_file = Some(file);
        auth.auth_key_check_interval = Duration::from_millis(100);
    })
    .await;
    let hs256 = app.with_token(&sign(Signer::Hs256, &claims("dev", &["customer"])));
    list_products_as(&hs256).await.expect("the file's key is trusted");
    let rsa = app.with_token(&sign(Signer::Rsa, &claims("alice", &["customer"])));
    list_products_as(&rsa)
        .await
        .expect("the URL's key is trusted beside it");

    std::fs::write(&secret, "another test-only HS256 secret, also 32+ bytes").unwrap();
    eventually(10, "the changed secret file read again", async || {
        list_products_as(&hs256).await.is_err()
    })
    .await;
    let refused = list_products_as(&hs256).await.unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "TOKEN_SIGNATURE_INVALID");
    let bob = app.with_token(&sign(Signer::Rsa, &claims("bob", &["customer"])));
    list_products_as(&bob)
        .await
        .expect("the fetched key survived the file's reading");
    assert_eq!(jwks.requests(), 1, "without fetching again");
}

#[tokio::test]
async fn tokens_with_made_up_kids_fetch_at_most_once_per_interval() {
    let jwks = JwksServer::start(&["rsa-2026"], 3600).await;
    let app = spawn_fetching_from(&jwks, |auth| {
        auth.auth_jwks_kid_refetch_interval = Duration::from_secs(3600);
        // Every refusal is counted, none turned into RESOURCE_EXHAUSTED.
        auth.auth_failure_rate = 0.0;
    })
    .await;
    let refusals = concurrently(20, |n| {
        let clients = app.with_token(&sign_naming(&format!("made-up-{n}"), &claims("mallory", &["customer"])));
        async move { list_products_as(&clients).await.unwrap_err() }
    })
    .await;
    for refused in &refusals {
        assert_error(refused, Code::Unauthenticated, "TOKEN_KEY_UNKNOWN");
    }
    assert_eq!(jwks.requests(), 2, "the start, and one fetch shared by 20 unknown kids");
    for n in 20..30 {
        let clients = app.with_token(&sign_naming(&format!("made-up-{n}"), &claims("mallory", &["customer"])));
        let refused = list_products_as(&clients).await.unwrap_err();
        assert_error(&refused, Code::Unauthenticated, "TOKEN_KEY_UNKNOWN");
    }
    assert_eq!(jwks.requests(), 2, "no more within the interval");
}

#[tokio::test]
async fn the_binary_refuses_plain_http_to_another_host_and_a_url_it_cannot_fetch() {
    let unreachable = format!("http://127.0.0.1:{}/jwks.json", free_port());
    let cases = [
        (
            "http://example.com/jwks",
            "--auth-jwks-url http://example.com/jwks: keys are fetched over https:// only",
        ),
        (
            unreachable.as_str(),
            "--auth-jwks-url: could not fetch http://127.0.0.1:",
        ),
    ];
    for (url, says) in cases {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders"));
        command
            .args(["--addr", &addr, "--auth-jwks-url", url])
            .args(["--auth-issuer", ISSUER, "--auth-audience", AUDIENCE])
            // Never reached: the keys are checked before any database.
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none");
        let output = run(&mut command, Duration::from_secs(30)).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "started with {url}: {}", show(&output));
        assert!(stderr.contains(says), "{stderr:?} lacks {says:?}");
    }
}

#[tokio::test]
async fn keys_are_fetched_over_https_from_a_server_of_the_given_ca_only() {
    let certs = Certs::new();
    let jwks = JwksServer::start_tls(&["rsa-2026"], 3600, &certs.server).await;
    let ca = certs.ca.cert_path.clone();
    let app = spawn_fetching_from(&jwks, |auth| auth.auth_jwks_ca_file = Some(ca)).await;
    let rsa = app.with_token(&sign(Signer::Rsa, &claims("alice", &["customer"])));
    list_products_as(&rsa)
        .await
        .expect("the key fetched over HTTPS is trusted");
    assert_eq!(jwks.requests(), 1);

    // Without the CA the certificate is unknown, so the server does not start.
    let mut settings = test_settings(&app.db_url);
    fetching_from(jwks.url(), |_| {})(&mut settings);
    let Err(error) = Application::build(settings).await else {
        panic!("started trusting a certificate of an unknown CA");
    };
    let message = error.to_string();
    assert!(
        message.starts_with("--auth-jwks-url: could not fetch https://localhost:"),
        "{message}"
    );
    assert!(message.contains("certificate"), "{message}");
    assert_eq!(jwks.requests(), 1, "the handshake failed before any request");
}
