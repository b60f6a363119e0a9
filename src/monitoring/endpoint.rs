//! The HTTP endpoint Prometheus scrapes: `GET /metrics` answers the
//! exposition in the text format; anything else is 404. HTTP/1.1 only,
//! which is what Prometheus speaks. It runs until the shutdown future
//! completes, like every other task of the process.

use std::{convert::Infallible, future::Future, net::SocketAddr};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::Scrape;

/// The content type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A bound `/metrics` endpoint, not yet serving.
pub struct Endpoint {
    listener: TcpListener,
    scrape: Scrape,
}

impl Endpoint {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, scrape: Scrape) -> std::io::Result<Endpoint> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Endpoint { listener, scrape })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves scrapes until `shutdown` completes, running the recorder's
    /// upkeep every few seconds in between.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut upkeep = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = upkeep.tick() => self.scrape.upkeep(),
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => self.answer(stream),
                    Err(error) => tracing::warn!(%error, "metrics endpoint: could not accept a connection"),
                },
            }
        }
    }

    fn answer(&self, stream: tokio::net::TcpStream) {
        let scrape = self.scrape.clone();
        let service = service_fn(move |request| respond(scrape.clone(), request));
        tokio::spawn(async move {
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "metrics endpoint: connection ended with an error");
            }
        });
    }
}

async fn respond(scrape: Scrape, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
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
    Ok(response.unwrap_or_else(|_| Response::new(Full::default())))
}
