//! The web pages' server: the embedded pages with their security headers,
//! `/config.json` (where the API is, how to sign in) and the development
//! sign-in, which mints only with the development secret and only for
//! customers and the warehouse.

use std::net::SocketAddr;

use http::{Method, StatusCode};
use orders::proto::GetOrderHistoryRequest;
use serde_json::json;
use tonic::Code;

use super::{Answer, http, serve_pages};
use crate::{
    app::{TestApp, spawn_app_with, spawn_secured_app_with},
    assertions::assert_error,
};

fn pages(app: &TestApp) -> SocketAddr {
    app.web.expect("the web pages are served")
}

async fn get(app: &TestApp, path: &str) -> Answer {
    http(pages(app), Method::GET, path, &[], &[]).await
}

async fn ask_for_token(app: &TestApp, body: serde_json::Value) -> Answer {
    let headers = [("content-type", "application/json")];
    http(
        pages(app),
        Method::POST,
        "/dev/token",
        &headers,
        body.to_string().as_bytes(),
    )
    .await
}

#[tokio::test]
async fn the_storefront_and_warehouse_pages_are_served_with_their_scripts() {
    let app = spawn_app_with(serve_pages).await;

    for path in ["/", "/warehouse"] {
        let page = get(&app, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(page.header("cache-control"), Some("no-cache"));
        let policy = page.header("content-security-policy").unwrap();
        let api = format!("connect-src 'self' http://127.0.0.1:{};", app.addr.port());
        assert!(policy.contains(&api), "{policy}");
        let html = String::from_utf8(page.body.to_vec()).unwrap();
        let script = html
            .split("src=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let script = get(&app, script).await;
        assert_eq!(script.status, StatusCode::OK);
        assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
    }
    assert_eq!(get(&app, "/nothing-here").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/../Cargo.toml").await.status, StatusCode::NOT_FOUND);
    let posted = http(pages(&app), Method::DELETE, "/", &[], &[]).await;
    assert_eq!(posted.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_config_names_the_api_under_the_host_the_browser_used() {
    let app = spawn_app_with(serve_pages).await;
    let port = app.addr.port();

    let config = get(&app, "/config.json").await;
    assert_eq!(
        config.json(),
        json!({ "grpcWebUrl": format!("http://127.0.0.1:{port}"), "auth": "off" })
    );
    let by_name = http(
        pages(&app),
        Method::GET,
        "/config.json",
        &[("host", "localhost:8080")],
        &[],
    )
    .await;
    assert_eq!(by_name.json()["grpcWebUrl"], format!("http://localhost:{port}"));
    let hostile = http(
        pages(&app),
        Method::GET,
        "/config.json",
        &[("host", "x; script-src *")],
        &[],
    )
    .await;
    assert_eq!(hostile.json()["grpcWebUrl"], format!("http://127.0.0.1:{port}"));
}

#[tokio::test]
async fn without_the_development_secret_no_token_is_minted() {
    let open = spawn_app_with(serve_pages).await;
    let request = json!({ "subject": "alice", "role": "customer" });
    assert_eq!(
        ask_for_token(&open, request.clone()).await.status,
        StatusCode::NOT_FOUND
    );

    // Keys from an identity provider only: tokens must come from there.
    let provider_only = spawn_secured_app_with(|settings| {
        serve_pages(settings);
        settings.security.auth.auth_hs256_secret_file = None;
    })
    .await;
    assert_eq!(get(&provider_only, "/config.json").await.json()["auth"], "required");
    let refused = ask_for_token(&provider_only, request).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(
        refused.json(),
        json!({ "error": "this server mints no development tokens" })
    );
}

#[tokio::test]
async fn a_development_token_acts_for_the_named_customer_only() {
    let app = spawn_secured_app_with(serve_pages).await;
    assert_eq!(get(&app, "/config.json").await.json()["auth"], "development");

    let answer = ask_for_token(&app, json!({ "subject": "alice", "role": "customer" })).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.json()["expiresInSeconds"], 3600);
    let alice = app.with_token(answer.json()["token"].as_str().unwrap());
    let history = |customer: &str| GetOrderHistoryRequest {
        customer_id: customer.into(),
        ..Default::default()
    };

    let own = alice.orders.clone().get_order_history(history("alice")).await;
    assert_eq!(own.expect("her own history").into_inner().orders, vec![]);
    let other = alice
        .orders
        .clone()
        .get_order_history(history("bob"))
        .await
        .unwrap_err();
    assert_error(&other, Code::PermissionDenied, "CUSTOMER_MISMATCH");
}

#[tokio::test]
async fn the_development_sign_in_refuses_other_roles_and_bad_subjects() {
    let app = spawn_secured_app_with(serve_pages).await;

    let warehouse = ask_for_token(&app, json!({ "subject": "warehouse", "role": "warehouse" })).await;
    assert_eq!(warehouse.status, StatusCode::OK);
    for (body, why) in [
        (
            json!({ "subject": "mallory", "role": "catalog-admin" }),
            "cannot sign in here",
        ),
        (
            json!({ "subject": "mallory", "role": "auditor" }),
            "cannot sign in here",
        ),
        (json!({ "subject": "", "role": "customer" }), "subject:"),
        (json!({ "subject": "a b", "role": "customer" }), "subject:"),
        (json!({ "name": "alice" }), "the body must be"),
    ] {
        let refused = ask_for_token(&app, body.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}");
        let error = refused.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(why), "{body}: {error}");
    }
    let huge = http(pages(&app), Method::POST, "/dev/token", &[], &vec![b' '; 10_000]).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
}
