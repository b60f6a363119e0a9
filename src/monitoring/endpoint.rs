//! The HTTP endpoint Prometheus scrapes: `GET /metrics` answers the
//! exposition in the text format; anything else is 404. HTTP/1.1 only,
//! which is what Prometheus speaks. It runs until the shutdown future
//! completes, like every other task of the process.

use std::{future::Future, net::SocketAddr, time::Duration};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;

use super::Scrape;
use crate::http_server::{HttpListener, HttpResponse};

/// The content type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A bound `/metrics` endpoint, not yet serving.
pub struct Endpoint {
    listener: HttpListener,
    scrape: Scrape,
}

impl Endpoint {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, scrape: Scrape) -> std::io::Result<Endpoint> {
        let listener = HttpListener::bind(addr, "metrics").await?;
        Ok(Endpoint { listener, scrape })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// Serves scrapes until `shutdown` completes, running the recorder's
    /// upkeep every few seconds in between.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let Endpoint { listener, scrape } = self;
        let upkeep = {
            let scrape = scrape.clone();
            async move {
                let mut every = tokio::time::interval(Duration::from_secs(5));
                loop {
                    every.tick().await;
                    scrape.upkeep();
                }
            }
        };
        let answer = move |request| respond(scrape.clone(), request);
        tokio::select! {
            () = listener.serve(answer, shutdown) => {}
            () = upkeep => {}
        }
    }
}

async fn respond(scrape: Scrape, request: Request<Incoming>) -> HttpResponse {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => Response::builder()
            .header(header::CONTENT_TYPE, TEXT_FORMAT)
            .body(Full::new(Bytes::from(scrape.render().await))),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(
                b"not found: metrics are at GET /metrics\n",
            ))),
    };
    response.unwrap_or_else(|_| Response::new(Full::default()))
}
