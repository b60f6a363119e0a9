//! CORS on the gRPC port: pages from the allowed origins (those of
//! `--web-allowed-origins`, and the server's own pages) may call it from a
//! browser; any other origin gets no CORS header at all.

use http::{Method, StatusCode};

use super::{Answer, http, serve_pages};
use crate::app::{TestApp, spawn_app_with};

const SHOP: &str = "https://shop.example.com";
const STRANGER: &str = "https://evil.example.net";

/// A gRPC-Web health check (an empty request message) sent from a page of
/// `origin`.
async fn call_from(app: &TestApp, origin: &str) -> Answer {
    let headers = [
        ("origin", origin),
        ("content-type", "application/grpc-web+proto"),
        ("x-grpc-web", "1"),
    ];
    http(
        app.addr,
        Method::POST,
        "/grpc.health.v1.Health/Check",
        &headers,
        &[0, 0, 0, 0, 0],
    )
    .await
}

/// The preflight a browser sends before such a call with a token.
async fn preflight_from(app: &TestApp, origin: &str) -> Answer {
    let headers = [
        ("origin", origin),
        ("access-control-request-method", "POST"),
        (
            "access-control-request-headers",
            "authorization,content-type,x-grpc-web,x-user-agent",
        ),
    ];
    http(
        app.addr,
        Method::OPTIONS,
        "/orders.v1.OrderService/GetOrderHistory",
        &headers,
        &[],
    )
    .await
}

async fn app_allowing_the_shop() -> TestApp {
    spawn_app_with(|settings| settings.web.web_allowed_origins = vec![SHOP.parse().unwrap()]).await
}

#[tokio::test]
async fn an_allowed_origin_may_send_a_token_and_read_the_status() {
    let app = app_allowing_the_shop().await;

    let preflight = preflight_from(&app, SHOP).await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(preflight.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(preflight.header("access-control-allow-methods"), Some("POST"));
    let allowed = preflight.header("access-control-allow-headers").unwrap();
    for header in [
        "authorization",
        "content-type",
        "x-grpc-web",
        "x-user-agent",
        "grpc-timeout",
    ] {
        assert!(allowed.contains(header), "{header} in {allowed}");
    }
    assert_eq!(preflight.header("access-control-max-age"), Some("600"));

    let call = call_from(&app, SHOP).await;
    assert_eq!(call.status, StatusCode::OK);
    assert_eq!(call.header("content-type"), Some("application/grpc-web+proto"));
    assert_eq!(call.header("access-control-allow-origin"), Some(SHOP));
    let readable = call.header("access-control-expose-headers").unwrap();
    for header in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        assert!(readable.contains(header), "{header} in {readable}");
    }
}

#[tokio::test]
async fn any_other_origin_gets_no_cors_header_at_all() {
    let app = app_allowing_the_shop().await;

    let preflight = preflight_from(&app, STRANGER).await;
    assert_eq!(preflight.cors_headers(), Vec::<&str>::new());
    let call = call_from(&app, STRANGER).await;
    assert_eq!(call.cors_headers(), Vec::<&str>::new());
    // Nor an origin that only looks like an allowed one.
    let lookalike = preflight_from(&app, "https://shop.example.com.evil.example.net").await;
    assert_eq!(lookalike.cors_headers(), Vec::<&str>::new());
}

#[tokio::test]
async fn no_origin_is_allowed_by_default() {
    let app = spawn_app_with(|_| {}).await;

    assert_eq!(preflight_from(&app, SHOP).await.cors_headers(), Vec::<&str>::new());
    assert_eq!(
        preflight_from(&app, "http://127.0.0.1:8080").await.cors_headers(),
        Vec::<&str>::new()
    );
}

#[tokio::test]
async fn the_servers_own_pages_are_allowed_under_each_loopback_name() {
    let app = spawn_app_with(serve_pages).await;
    let port = app.web.expect("the pages are served").port();

    for origin in [format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}")] {
        let preflight = preflight_from(&app, &origin).await;
        assert_eq!(preflight.header("access-control-allow-origin"), Some(origin.as_str()));
    }
    let other_port = format!("http://127.0.0.1:{}", port + 1);
    assert_eq!(
        preflight_from(&app, &other_port).await.cors_headers(),
        Vec::<&str>::new()
    );
}
