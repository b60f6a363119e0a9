//! Per-call deadlines.
//!
//! A call ends at the earlier of the client's `grpc-timeout` and the
//! server's `--request-timeout`, with DEADLINE_EXCEEDED as the gRPC spec says
//! (tonic's own server timeout answers CANCELLED, which clients treat
//! differently). Work that must not be torn apart half-way (a transaction
//! and its commit) runs in a spawned task, so dropping the call here cannot
//! leave a transaction open on a pooled connection.
//!
//! The deadline is also handed to the handler as the call's [`CallDeadline`]
//! request extension, so the database work stops at the same moment
//! ([`crate::actions::Call`]).

use std::{
    task::{Context, Poll},
    time::Duration,
};

use futures_util::future::{BoxFuture, FutureExt};
use tonic::Code;
use tower::{Layer, Service};

use super::{GrpcResponse, is_infrastructure, status_response};
use crate::{actions::call::CallDeadline, error::status_with_reason};

/// Applies the call deadline.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    max: Duration,
}

impl DeadlineLayer {
    pub fn new(max: Duration) -> Self {
        DeadlineLayer { max }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline { inner, max: self.max }
    }
}

#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    max: Duration,
}

impl<S, B> Service<http::Request<B>> for Deadline<S>
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
        // Streams such as health `Watch` legitimately stay open for long.
        if is_infrastructure(request.uri().path()) {
            return self.inner.call(request).boxed();
        }
        let client = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| parse_grpc_timeout(v.to_str().ok()?));
        let limit = client.map_or(self.max, |client| client.min(self.max));
        let deadline = tokio::time::Instant::now() + limit;
        request.extensions_mut().insert(CallDeadline(deadline));
        let future = self.inner.call(request);
        async move {
            match tokio::time::timeout_at(deadline, future).await {
                Ok(response) => response,
                Err(_) => {
                    let message = format!(
                        "the call did not finish within its deadline of {} ms",
                        limit.as_millis()
                    );
                    Ok(status_response(status_with_reason(
                        Code::DeadlineExceeded,
                        "DEADLINE_EXCEEDED",
                        message,
                    )))
                }
            }
        }
        .boxed()
    }
}

/// Parses a `grpc-timeout` header value: up to 8 digits and a unit
/// (H, M, S, m, u, n), as the gRPC HTTP/2 spec defines it.
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("10x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }
}
