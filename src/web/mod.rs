//! The web pages: a storefront and a warehouse page, TypeScript built into
//! static files ([`assets`]) that call this process's gRPC port with
//! gRPC-Web, served at `--web-addr` beside two small JSON endpoints:
//! `GET /config.json` (where the API is, and how to sign in) and, with the
//! development secret only, `POST /dev/token` ([`sign_in`]).
//!
//! The pages are one more client of the public API: they get no access a
//! browser with a token would not have.

pub mod assets;
pub mod sign_in;

use std::{future::Future, net::SocketAddr, sync::Arc};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::json;

use crate::http_server::{HttpListener, HttpResponse};
use sign_in::{SignIn, TokenRequest};

/// The largest body `POST /dev/token` reads.
const MAX_BODY_BYTES: usize = 4096;

/// Where the pages find the gRPC-Web API: this process's gRPC port, on the
/// host name the browser used to reach the pages.
#[derive(Clone, Copy)]
pub struct GrpcPort {
    pub port: u16,
    pub tls: bool,
}

/// The bound web server, not yet serving.
pub struct WebPages {
    listener: HttpListener,
    site: Arc<Site>,
}

struct Site {
    grpc: GrpcPort,
    sign_in: SignIn,
}

impl WebPages {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, grpc: GrpcPort, sign_in: SignIn) -> std::io::Result<WebPages> {
        let listener = HttpListener::bind(addr, "web").await?;
        let site = Arc::new(Site { grpc, sign_in });
        Ok(WebPages { listener, site })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// Serves the pages until `shutdown` completes.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let site = self.site;
        let answer = move |request| respond(site.clone(), request);
        self.listener.serve(answer, shutdown).await;
    }
}

async fn respond(site: Arc<Site>, request: Request<Incoming>) -> HttpResponse {
    let grpc_url = site.grpc_url(request.headers().get(header::HOST));
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/config.json") => json_response(
            StatusCode::OK,
            json!({ "grpcWebUrl": grpc_url, "auth": site.sign_in.mode() }),
        ),
        (&Method::POST, "/dev/token") => dev_token(&site.sign_in, request).await,
        (&Method::GET, path) => match assets::find(path) {
            Some(asset) => asset_response(asset, &grpc_url),
            None => text_response(
                StatusCode::NOT_FOUND,
                "not found: the storefront is at /, the warehouse at /warehouse\n",
            ),
        },
        _ => text_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
    }
}

impl Site {
    /// The gRPC-Web URL for a browser that reached the pages at `host`.
    fn grpc_url(&self, host: Option<&HeaderValue>) -> String {
        let host = host.and_then(|host| host.to_str().ok()).unwrap_or("127.0.0.1");
        // Drop the pages' port; keep an IPv6 literal's brackets.
        let name = match host.rfind(':') {
            Some(colon) if !host[colon..].contains(']') => &host[..colon],
            _ => host,
        };
        // The name goes into a URL and a header: only what a host name or
        // an address can hold.
        let plausible = |c: char| c.is_ascii_alphanumeric() || ".-[]:".contains(c);
        let name = match !name.is_empty() && name.chars().all(plausible) {
            true => name,
            false => "127.0.0.1",
        };
        let scheme = if self.grpc.tls { "https" } else { "http" };
        format!("{scheme}://{name}:{}", self.grpc.port)
    }
}

async fn dev_token(sign_in: &SignIn, request: Request<Incoming>) -> HttpResponse {
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return json_error(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large"),
    };
    let minted = match serde_json::from_slice::<TokenRequest>(&body) {
        Ok(wanted) => sign_in.mint(&wanted),
        Err(error) => Some(Err(format!(
            "the body must be {{\"subject\": …, \"role\": …}}: {error}"
        ))),
    };
    match minted {
        None => json_error(StatusCode::NOT_FOUND, "this server mints no development tokens"),
        Some(Ok(token)) => json_response(StatusCode::OK, json!(token)),
        Some(Err(why)) => json_error(StatusCode::BAD_REQUEST, &why),
    }
}

fn asset_response(asset: assets::Asset, grpc_url: &str) -> HttpResponse {
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, asset.content_type)
        .header(header::CACHE_CONTROL, asset.cache_control)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if asset.is_page {
        // The pages load only their own files and talk only to the API.
        let policy = format!(
            "default-src 'self'; connect-src 'self' {grpc_url}; img-src 'self' data:; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        );
        response = response
            .header(header::CONTENT_SECURITY_POLICY, policy)
            .header(header::REFERRER_POLICY, "no-referrer");
    }
    finish(response.body(Full::new(Bytes::from_static(asset.bytes))))
}

fn json_response(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    let response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Full::new(Bytes::from(body.to_string())));
    finish(response)
}

fn json_error(status: StatusCode, message: &str) -> HttpResponse {
    json_response(status, json!({ "error": message }))
}

fn text_response(status: StatusCode, text: &'static str) -> HttpResponse {
    let response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from_static(text.as_bytes())));
    finish(response)
}

/// A response built from valid parts; an empty 500 if one was not.
fn finish(response: http::Result<HttpResponse>) -> HttpResponse {
    response.unwrap_or_else(|error| {
        tracing::error!(%error, "web: could not build a response");
        let mut empty = Response::new(Full::default());
        *empty.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        empty
    })
}
