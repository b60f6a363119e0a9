//! The shape of a layer that only looks at a request on its way in: it
//! either lets the call through (perhaps after adding extensions) or
//! answers it at once with a status, never waiting. Authentication and the
//! per-caller rate limit are such checks; each says only *what* it checks
//! ([`Check`]), and [`CheckLayer`] does the tower plumbing for both.

use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use tower::{Layer, Service};

use super::{GrpcResponse, status_response};

/// A decision about one request.
pub trait Check {
    /// `Ok` lets the request through (as changed); `Err` is the answer.
    fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), tonic::Status>;
}

/// Runs a [`Check`] before every call.
#[derive(Debug, Clone)]
pub struct CheckLayer<C> {
    check: C,
}

impl<C> CheckLayer<C> {
    pub fn new(check: C) -> Self {
        CheckLayer { check }
    }
}

impl<S, C: Clone> Layer<S> for CheckLayer<C> {
    type Service = Checked<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Checked {
            inner,
            check: self.check.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Checked<S, C> {
    inner: S,
    check: C,
}

impl<S, C, B> Service<http::Request<B>> for Checked<S, C>
where
    S: Service<http::Request<B>, Response = GrpcResponse>,
    C: Check,
{
    type Response = GrpcResponse;
    type Error = S::Error;
    type Future = Either<Ready<Result<GrpcResponse, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.check.check(&mut request) {
            Ok(()) => Either::Right(self.inner.call(request)),
            Err(status) => Either::Left(ready(Ok(status_response(status)))),
        }
    }
}
