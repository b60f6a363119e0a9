//! A concurrency limit shared by every connection.
//!
//! tonic's `concurrency_limit_per_connection` is per connection, and internal
//! callers often multiplex everything over one connection, so it bounds
//! nothing useful. This layer holds one semaphore for the whole server and
//! refuses calls beyond it immediately with RESOURCE_EXHAUSTED (queueing them
//! would only turn overload into timeouts). Health and reflection calls are
//! exempt.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::{BoxFuture, FutureExt};
use tokio::sync::Semaphore;
use tonic::Code;
use tower::{Layer, Service};

use super::{GrpcResponse, is_infrastructure, status_response};
use crate::error::status_with_reason;

/// Limits calls in progress to a fixed number across all connections.
#[derive(Clone)]
pub struct GlobalConcurrencyLimitLayer {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl GlobalConcurrencyLimitLayer {
    pub fn new(limit: usize) -> Self {
        GlobalConcurrencyLimitLayer {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }
}

impl<S> Layer<S> for GlobalConcurrencyLimitLayer {
    type Service = GlobalConcurrencyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GlobalConcurrencyLimit {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct GlobalConcurrencyLimit<S> {
    inner: S,
    layer: GlobalConcurrencyLimitLayer,
}

impl<S, B> Service<http::Request<B>> for GlobalConcurrencyLimit<S>
where
    S: Service<http::Request<B>, Response = GrpcResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = GrpcResponse;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<GrpcResponse, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if is_infrastructure(request.uri().path()) {
            return self.inner.call(request).boxed();
        }
        let Ok(permit) = self.layer.permits.clone().try_acquire_owned() else {
            let message = format!(
                "the server is at its limit of {} concurrent calls; retry with backoff",
                self.layer.limit
            );
            crate::monitoring::count_refusal(true, "CONCURRENCY_LIMIT_REACHED");
            let status = status_with_reason(Code::ResourceExhausted, "CONCURRENCY_LIMIT_REACHED", message);
            return futures_util::future::ready(Ok(status_response(status))).boxed();
        };
        let future = self.inner.call(request);
        async move {
            let response = future.await;
            drop(permit);
            response
        }
        .boxed()
    }
}
