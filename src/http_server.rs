//! A small HTTP/1.1 server for a process's side doors: the `/metrics`
//! endpoint and the web pages. Each is a handler from a request to a whole
//! response; this accepts connections until shutdown and runs the handler
//! for each request. (gRPC, and gRPC-Web, are served by tonic on their own
//! port.)

use std::{convert::Infallible, future::Future, net::SocketAddr};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// A whole response: these endpoints never stream.
pub type HttpResponse = Response<Full<Bytes>>;

/// A bound listener, not yet serving.
pub struct HttpListener {
    listener: TcpListener,
    /// Names the endpoint in log lines.
    name: &'static str,
}

impl HttpListener {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, name: &'static str) -> std::io::Result<HttpListener> {
        Ok(HttpListener {
            listener: TcpListener::bind(addr).await?,
            name,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Answers every request with `handler` until `shutdown` completes.
    pub async fn serve<H, F>(self, handler: H, shutdown: impl Future<Output = ()>)
    where
        H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = HttpResponse> + Send + 'static,
    {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => self.answer(stream, handler.clone()),
                    Err(error) => tracing::warn!(%error, endpoint = self.name, "could not accept a connection"),
                },
            }
        }
    }

    fn answer<H, F>(&self, stream: TcpStream, handler: H)
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = HttpResponse> + Send + 'static,
    {
        let name = self.name;
        let service = service_fn(move |request| {
            let response = handler(request);
            async move { Ok::<_, Infallible>(response.await) }
        });
        tokio::spawn(async move {
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, endpoint = name, "connection ended with an error");
            }
        });
    }
}
