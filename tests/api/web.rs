//! Browsers: gRPC-Web on the gRPC port (over HTTP/1.1, with CORS for the
//! allowed origins only, and authentication exactly as for gRPC), and the
//! web pages with their two JSON endpoints. The pages themselves are
//! driven in Chromium by [`crate::browser`].

mod cors;
mod grpc_web;
mod pages;

use std::net::SocketAddr;

use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use orders::config::{Settings, WebAddr};

/// Serves the web pages on a free loopback port.
pub fn serve_pages(settings: &mut Settings) {
    settings.web.web_addr = WebAddr::At("127.0.0.1:0".parse().unwrap());
}

/// What an HTTP/1.1 request got back.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("a text header"))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The names of the CORS headers in the answer.
    pub fn cors_headers(&self) -> Vec<&str> {
        let names = self.headers.keys().map(|name| name.as_str());
        names.filter(|name| name.starts_with("access-control-")).collect()
    }
}

/// Sends one HTTP/1.1 request to `addr` on a connection of its own.
pub async fn http(addr: SocketAddr, method: Method, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("the server accepts");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 handshake");
    tokio::spawn(connection);
    let mut request = Request::builder().method(method).uri(path);
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        request = request.header("host", addr.to_string());
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::copy_from_slice(body))).unwrap();
    let response = sender.send_request(request).await.expect("an answer");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("a whole body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
