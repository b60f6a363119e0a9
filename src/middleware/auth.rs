//! Authentication and method-level authorization, before anything else
//! looks at the request ([`crate::auth::Gate`] decides).
//!
//! An admitted call carries its [`Caller`] (for the handlers) and, when the
//! caller has an identity, a [`RateKey`] (for the rate limit) in its
//! extensions. A refused one is answered here with UNAUTHENTICATED or
//! PERMISSION_DENIED and never reaches a handler.
//!
//! The `authorization` metadata is removed once verified, so nothing further
//! in can log or forward the token by accident.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::{BoxFuture, FutureExt};
use sha2::{Digest, Sha256};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tower::{Layer, Service};

use super::{GrpcResponse, status_response};
use crate::auth::{Caller, Gate};

/// Whom a call counts against for rate limiting: `caller/<sub>` for a
/// verified token, else `certificate/<sha256 prefix>` for a TLS client
/// certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey(pub Arc<str>);

/// The verified subject of a call, put in its response's extensions for
/// the call log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(pub Arc<str>);

/// Runs the [`Gate`] on every call.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    gate: Arc<Gate>,
}

impl AuthLayer {
    pub fn new(gate: Arc<Gate>) -> Self {
        AuthLayer { gate }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            gate: self.gate.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    gate: Arc<Gate>,
}

impl<S, B> Service<http::Request<B>> for Auth<S>
where
    S: Service<http::Request<B>, Response = GrpcResponse> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = GrpcResponse;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<GrpcResponse, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let admitted = match self.gate.admit(request.uri().path(), request.headers()) {
            Ok(admitted) => admitted,
            Err(refusal) => return futures_util::future::ready(Ok(status_response(refusal.into()))).boxed(),
        };
        request.headers_mut().remove(http::header::AUTHORIZATION);
        let subject: Option<Arc<str>> = admitted.subject.map(Into::into);
        let key = match &subject {
            Some(subject) => Some(format!("caller/{subject}")),
            None => client_certificate(&request).map(|print| format!("certificate/{print}")),
        };
        let extensions = request.extensions_mut();
        if let Some(caller) = admitted.caller {
            extensions.insert::<Arc<Caller>>(caller);
        }
        if let Some(key) = key {
            extensions.insert(RateKey(key.into()));
        }
        let future = self.inner.call(request);
        async move {
            let mut response = future.await?;
            if let Some(subject) = subject {
                response.extensions_mut().insert(Subject(subject));
            }
            Ok(response)
        }
        .boxed()
    }
}

/// The first 16 bytes of the SHA-256 of the client's leaf certificate, in
/// hex, when the connection is TLS with a client certificate.
fn client_certificate<B>(request: &http::Request<B>) -> Option<String> {
    let info = request.extensions().get::<TlsConnectInfo<TcpConnectInfo>>()?;
    let certs = info.peer_certs()?;
    let leaf = certs.first()?;
    let digest = Sha256::digest(leaf.as_ref());
    Some(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
}
