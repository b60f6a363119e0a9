//! A call whose token names a `kid` no key has waits, before it is
//! authenticated, for the JWKS URL to be fetched again
//! ([`Gate::refetch_keys`]): an identity provider that starts signing with
//! a new key is trusted at its first token, not only at the next refresh.
//!
//! The authentication check itself ([`super::auth`]) never waits, so it
//! stays a plain [`super::check::Check`]; this layer runs just before it
//! and only for such calls, which are rare (a rotation, or someone sending
//! made-up `kid`s, whose fetches are rate-limited). Everything else goes
//! straight through. Without `--auth-jwks-url` the layer does nothing.
//!
//! It runs before the per-peer limit on failed authentications, so that
//! limit does not bound these fetches: the refetch interval does, whoever
//! sends the tokens. The wait is outside the call's deadline layer, and at
//! most one fetch long (its timeout).

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::{BoxFuture, Either};
use tower::{Layer, Service};

use super::GrpcResponse;
use crate::auth::Gate;

/// Fetches keys again for calls whose token names an unknown `kid`.
#[derive(Debug, Clone)]
pub struct KeyRefetchLayer {
    gate: Arc<Gate>,
}

impl KeyRefetchLayer {
    pub fn new(gate: Arc<Gate>) -> KeyRefetchLayer {
        KeyRefetchLayer { gate }
    }
}

impl<S> Layer<S> for KeyRefetchLayer {
    type Service = KeyRefetch<S>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyRefetch {
            inner,
            gate: self.gate.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct KeyRefetch<S> {
    inner: S,
    gate: Arc<Gate>,
}

impl<S, B> Service<http::Request<B>> for KeyRefetch<S>
where
    S: Service<http::Request<B>, Response = GrpcResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = GrpcResponse;
    type Error = S::Error;
    type Future = Either<S::Future, BoxFuture<'static, Result<GrpcResponse, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if !self.gate.wants_refetch(request.uri().path(), request.headers()) {
            return Either::Left(self.inner.call(request));
        }
        // The service that was polled ready goes with the call; this one
        // keeps a fresh clone (tower's usual move for a delayed call).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gate = self.gate.clone();
        Either::Right(Box::pin(async move {
            gate.refetch_keys().await;
            inner.call(request).await
        }))
    }
}
