//! TLS and mutual TLS: a TLS server serves TLS clients and no plaintext
//! ones; with a client CA, only clients presenting a certificate it signed
//! get past the handshake, and a refused client stores nothing; certificates
//! and tokens combine (both are needed); a bad TLS configuration stops the
//! start with a message naming the problem; and a Python client (the
//! README's example of TLS plus a token) walks an order through its life.

use std::path::{Path, PathBuf};

use orders::{
    config::{Settings, TlsSettings},
    proto::catalog_service_client::CatalogServiceClient,
    startup::Application,
    tls::error_chain,
};
use tokio::process::Command;
use tonic::{Code, transport::Endpoint};

use crate::{
    api_calls::list_products_as,
    app::{Bearer, Clients, TestApp, spawn_app_with, spawn_secured_app_with, test_settings},
    assertions::assert_error,
    certs::{Certs, ClientAuth, endpoint_trusting, tls_channel, tls_endpoint, use_tls},
    direct_sql::{count_rows, query_n},
    local_machine::{python_venv, repo, run_to_success},
    requests::product_request,
    test_database::TestDatabase,
    tokens,
};

/// A fresh set of certificates and a server using them.
async fn tls_app(client_auth: ClientAuth) -> (TestApp, Certs) {
    let certs = Certs::new();
    let app = spawn_app_with(|settings| use_tls(settings, &certs, client_auth)).await;
    (app, certs)
}

/// Connects through `endpoint` and tries a CreateProduct, which must fail
/// either at connecting or as a transport-level status (never a status the
/// service itself sent); returns the failure with its causes.
async fn refused_create(endpoint: Endpoint) -> String {
    let channel = match endpoint.connect().await {
        Ok(channel) => channel,
        Err(error) => return error_chain(&error),
    };
    // TLS 1.3: the client finishes its side of the handshake before the
    // server has checked the client's certificate, so the refusal may only
    // arrive with the first call.
    let request = product_request("SKU-REFUSED", (1, 0, "EUR"), 1);
    match CatalogServiceClient::new(channel).create_product(request).await {
        Ok(response) => panic!("a refused client created a product: {response:?}"),
        Err(status) => {
            assert!(
                matches!(status.code(), Code::Unavailable | Code::Unknown),
                "expected a transport failure, got {status:?}"
            );
            error_chain(&status)
        }
    }
}

#[tokio::test]
async fn a_tls_server_serves_tls_clients_and_refuses_plaintext_ones() {
    let (app, certs) = tls_app(ClientAuth::None).await;
    create_product_as_tls(&app, &certs).await;

    let plaintext = Endpoint::from_shared(format!("http://{}", app.addr)).unwrap();
    // The server hangs up on bytes that are no TLS handshake; how the client
    // notices (broken pipe, reset, EOF) depends on timing.
    let failure = refused_create(plaintext).await;
    assert!(failure.contains("transport error"), "a plaintext client: {failure}");
    // The client checks the server too: one that trusts another CA hangs up.
    let distrustful = refused_create(endpoint_trusting(&app, &certs.rogue_ca, None)).await;
    assert!(
        distrustful.contains("UnknownIssuer"),
        "a client trusting another CA: {distrustful}"
    );
    assert_eq!(
        count_rows(&app, "products").await,
        1,
        "only the TLS client's product is stored"
    );
}

/// Creates a product over TLS without a client certificate; checks it is listed.
async fn create_product_as_tls(app: &TestApp, certs: &Certs) {
    let clients = Clients::new(tls_channel(app, certs, None).await, Bearer::default());
    let request = product_request("SKU-TLS", (1, 0, "EUR"), 1);
    let created = clients.catalog.clone().create_product(request).await;
    assert!(created.is_ok(), "CreateProduct over TLS: {created:?}");
    assert_eq!(list_products_as(&clients).await.unwrap(), 1);
}

#[tokio::test]
async fn mutual_tls_serves_clients_with_a_certificate_of_the_trusted_ca() {
    let (app, certs) = tls_app(ClientAuth::Required).await;
    for client in [&certs.client_a, &certs.client_b] {
        let clients = Clients::new(tls_channel(&app, &certs, Some(client)).await, Bearer::default());
        assert_eq!(list_products_as(&clients).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn mutual_tls_refuses_clients_without_a_trusted_certificate_in_the_handshake() {
    let (app, certs) = tls_app(ClientAuth::Required).await;

    // rustls on the server answers with the TLS alert that says why.
    let anonymous = refused_create(tls_endpoint(&app, &certs, None)).await;
    assert!(
        anonymous.contains("CertificateRequired"),
        "a client without a certificate: {anonymous}"
    );
    let rogue = refused_create(tls_endpoint(&app, &certs, Some(&certs.rogue_client))).await;
    assert!(rogue.contains("UnknownCA"), "a certificate of an untrusted CA: {rogue}");

    assert_eq!(count_rows(&app, "products").await, 0, "refused clients stored nothing");
}

#[tokio::test]
async fn with_mutual_tls_and_tokens_a_call_needs_both() {
    let certs = Certs::new();
    let app = spawn_secured_app_with(|settings| use_tls(settings, &certs, ClientAuth::Required)).await;
    let channel = tls_channel(&app, &certs, Some(&certs.client_a)).await;
    let admin = Bearer::token(&tokens::token("admin-1", &["catalog-admin"]));

    let with_token = Clients::new(channel.clone(), admin.clone());
    let request = product_request("SKU-BOTH", (1, 0, "EUR"), 1);
    let created = with_token.catalog.clone().create_product(request).await;
    assert!(created.is_ok(), "certificate and token: {created:?}");

    let without_token = Clients::new(channel, Bearer::default());
    let status = list_products_as(&without_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "TOKEN_MISSING");

    // A valid token does not stand in for the certificate.
    let no_certificate = tls_endpoint(&app, &certs, None);
    let channel = no_certificate.connect_lazy();
    let request = product_request("SKU-TOKEN-ONLY", (1, 0, "EUR"), 1);
    let refused = Clients::new(channel, admin).catalog.create_product(request).await;
    let status = refused.expect_err("a token without a client certificate was served");
    assert!(
        error_chain(&status).contains("CertificateRequired"),
        "token without a certificate: {}",
        error_chain(&status)
    );

    assert_eq!(count_rows(&app, "products").await, 1);
}

/// Picks one of the TLS file settings, to point it elsewhere.
type Pick = fn(&mut TlsSettings) -> &mut Option<PathBuf>;

/// How every refused TLS configuration starts.
const INVALID: &str = "invalid TLS configuration (--tls-cert, --tls-key, --tls-client-ca): ";

/// Why `Application::build` refused `configure`d TLS settings.
async fn startup_error(certs: &Certs, configure: impl FnOnce(&mut Settings)) -> String {
    let database = TestDatabase::create().await;
    let mut settings = test_settings(&database.url);
    use_tls(&mut settings, certs, ClientAuth::Required);
    configure(&mut settings);
    match Application::build(settings).await {
        Ok(_) => panic!("the server started with a bad TLS configuration"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn startup_refuses_a_missing_certificate_file() {
    let certs = Certs::new();
    let missing = certs.path("no-such-cert.pem");
    let message = startup_error(&certs, |s| s.security.tls.tls_cert = Some(missing.clone())).await;
    let expected = format!("could not read {}: ", missing.display());
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains("No such file or directory"), "{message}");
}

#[tokio::test]
async fn startup_refuses_garbage_pem_in_each_tls_file_naming_the_file() {
    let certs = Certs::new();
    let garbage = certs.path("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n").unwrap();
    let files: [(&str, Pick, &str); 3] = [
        ("--tls-cert", |tls| &mut tls.tls_cert, "is not valid PEM"),
        ("--tls-key", |tls| &mut tls.tls_key, "holds no usable PEM private key"),
        ("--tls-client-ca", |tls| &mut tls.tls_client_ca, "is not valid PEM"),
    ];
    for (flag, pick, problem) in files {
        let message = startup_error(&certs, |s| *pick(&mut s.security.tls) = Some(garbage.clone())).await;
        let expected = format!("{flag} {}: {problem}", garbage.display());
        assert!(message.starts_with(&expected), "garbage in {flag}: {message}");
    }
}

#[tokio::test]
async fn startup_refuses_tls_files_that_hold_no_certificate_naming_the_file() {
    let certs = Certs::new();
    let text = certs.path("not-pem.txt");
    std::fs::write(&text, "just some text\n").unwrap();
    // A key where a certificate belongs is an easy mistake to make.
    let cases: [(&str, Pick, &Path); 4] = [
        ("--tls-cert", |tls| &mut tls.tls_cert, &text),
        ("--tls-cert", |tls| &mut tls.tls_cert, &certs.server.key_path),
        ("--tls-client-ca", |tls| &mut tls.tls_client_ca, &text),
        ("--tls-client-ca", |tls| &mut tls.tls_client_ca, &certs.ca.key_path),
    ];
    for (flag, pick, path) in cases {
        let message = startup_error(&certs, |s| *pick(&mut s.security.tls) = Some(path.to_owned())).await;
        let expected = format!(
            "{flag} {}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        );
        assert_eq!(message, expected);
    }
}

#[tokio::test]
async fn startup_refuses_a_key_that_does_not_match_the_certificate() {
    let certs = Certs::new();
    let other_key = certs.client_a.key_path.clone();
    let message = startup_error(&certs, |s| s.security.tls.tls_key = Some(other_key)).await;
    assert!(message.starts_with(INVALID), "{message}");
}

/// Stub generation plus a dozen calls; the virtualenv is ready by then.
const PYTHON_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn python_client_with_tls_and_tokens_places_and_ships_an_order() {
    let certs = Certs::new();
    let app = spawn_secured_app_with(|settings| use_tls(settings, &certs, ClientAuth::None)).await;
    let venv = python_venv().await;
    let mut client = Command::new(venv.join("bin/python"));
    client
        .arg(repo().join("tests/python/secure_client_test.py"))
        .arg(format!("localhost:{}", app.addr.port()))
        .arg(&certs.ca.cert_path)
        // Tokens in the environment, not the command line: `ps` shows arguments.
        .env("ORDERS_ADMIN_TOKEN", tokens::token("py-admin", &["catalog-admin"]))
        .env("ORDERS_CUSTOMER_TOKEN", tokens::token("alice", &["customer"]))
        .env("ORDERS_WAREHOUSE_TOKEN", tokens::token("py-warehouse", &["warehouse"]));
    run_to_success(&mut client, PYTHON_TIMEOUT, "the secure Python client").await;
    // What the client saw is what was stored: alice's one order, shipped.
    let shipped = "SELECT count(*) AS n FROM orders WHERE customer_id = 'alice' AND state = 'SHIPPED'";
    assert_eq!(query_n(&app, shipped).await, 1);
    assert_eq!(count_rows(&app, "orders").await, 1, "exactly the Python client's order");
}
