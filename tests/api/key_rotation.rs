//! Keys that rotate without a restart: a key added to the JWKS file is
//! trusted once the file is read again, a key removed from it no longer is
//! (not even for a token verified with it before), a file that no longer
//! parses leaves the last good keys in place, and SIGHUP reads the file at
//! once.

use std::{path::Path, time::Duration};

use tonic::Code;

use crate::{
    api_calls::list_products_as,
    app::spawn_app_with,
    assertions::assert_error,
    binary::Server,
    local_machine::{free_port, fresh_dir},
    test_database::TestDatabase,
    timing::eventually,
    tokens::{self, AUDIENCE, ISSUER, Signer, claims, sign},
};

/// Writes a JWKS holding the fixture keys named by `kids` to `path`.
fn write_jwks(path: &Path, kids: &[&str]) {
    let text = tokens::jwks_of(kids);
    // Written whole and renamed, as a deployment tool does, so that no
    // check sees half a file.
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text).unwrap();
    std::fs::rename(partial, path).unwrap();
}

#[tokio::test]
async fn keys_added_to_and_removed_from_the_jwks_file_take_effect_without_a_restart() {
    let jwks = fresh_dir("rotation").join("jwks.json");
    write_jwks(&jwks, &["rsa-2026"]);
    let file = jwks.clone();
    let app = spawn_app_with(move |s| {
        let auth = &mut s.security.auth;
        auth.auth_jwks = Some(file);
        auth.auth_issuer = Some(ISSUER.to_owned());
        auth.auth_audience = Some(AUDIENCE.to_owned());
        auth.auth_key_check_interval = Duration::from_millis(100);
    })
    .await;
    let rsa = app.with_token(&sign(Signer::Rsa, &claims("alice", &["customer"])));
    let ed = app.with_token(&sign(Signer::Ed25519, &claims("bob", &["customer"])));
    list_products_as(&rsa)
        .await
        .expect("the RSA key is trusted from the start");
    let refused = list_products_as(&ed).await.unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "TOKEN_ALGORITHM_REJECTED");

    write_jwks(&jwks, &["rsa-2026", "ed-2026"]);
    eventually(10, "the added Ed25519 key trusted", async || {
        list_products_as(&ed).await.is_ok()
    })
    .await;

    write_jwks(&jwks, &["ed-2026"]);
    eventually(10, "the removed RSA key no longer trusted", async || {
        list_products_as(&rsa)
            .await
            .is_err_and(|s| s.code() == Code::Unauthenticated)
    })
    .await;
    let refused = list_products_as(&rsa).await.unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "TOKEN_ALGORITHM_REJECTED");

    // A broken file changes nothing: the last good keys stay.
    std::fs::write(&jwks, "{ not json").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    list_products_as(&ed).await.expect("the last good keys still verify");
}

#[tokio::test]
async fn sighup_reads_the_key_files_at_once() {
    let database = TestDatabase::create().await;
    let jwks = fresh_dir("sighup").join("jwks.json");
    write_jwks(&jwks, &["rsa-2026"]);
    let addr = format!("127.0.0.1:{}", free_port());
    let args = [
        "--addr",
        &addr,
        "--auth-jwks",
        jwks.to_str().unwrap(),
        "--auth-issuer",
        ISSUER,
        "--auth-audience",
        AUDIENCE,
        // Never by itself within the test: only the signal reads the file.
        "--auth-key-check-interval",
        "1h",
    ];
    let server = Server::start(&database.url, &args, &[("RUST_LOG", "info")]);
    server.wait_for_log("orders is serving gRPC").await;
    let channel = crate::app::connect_channel(addr.parse().unwrap()).await;
    let ed = crate::app::Clients::new(
        channel,
        crate::app::Bearer::token(&sign(Signer::Ed25519, &claims("bob", &["customer"]))),
    );
    assert!(list_products_as(&ed).await.is_err(), "not trusted yet");

    write_jwks(&jwks, &["rsa-2026", "ed-2026"]);
    server.signal("HUP");
    server.wait_for_log("token keys read again").await;
    list_products_as(&ed).await.expect("trusted after SIGHUP");
    let log = server.stop().await;
    let line = log.lines().find(|l| l.contains("token keys read again")).unwrap();
    assert!(line.contains("keys=2") && line.contains("why=\"SIGHUP\""), "{line}");
}
