//! A response body that reports the end of its gRPC call, with the status
//! code's canonical name, to whatever needs it: the call log
//! ([`super::log`]) and the span of an outgoing call
//! ([`super::trace_client`]).
//!
//! A gRPC status travels in the response headers when the call fails before
//! any message ("trailers-only"; the wrapper's owner reads those with
//! [`grpc_code`]), and otherwise in the trailers after the body, which
//! [`LoggedBody`] watches; a body dropped before its trailers (the other
//! side went away) ends as CANCELLED.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};

/// What a response body reports the end of its call to, with the status
/// code's canonical name: a call's log line, an outgoing call's span.
pub trait Finish {
    fn finish(self, code: &'static str);
}

pin_project_lite::pin_project! {
    /// A response body that reports its call's end (the log line, a span)
    /// when its trailers pass, or as CANCELLED if it is dropped before.
    pub struct LoggedBody<B, R: Finish> {
        #[pin]
        inner: B,
        record: Option<R>,
    }

    impl<B, R: Finish> PinnedDrop for LoggedBody<B, R> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(record) = this.project().record.take() {
                record.finish("CANCELLED");
            }
        }
    }
}

impl<B, R: Finish> LoggedBody<B, R> {
    /// `inner`, reporting to `record` when it ends (`None`: already reported).
    pub fn new(inner: B, record: Option<R>) -> Self {
        LoggedBody { inner, record }
    }
}

impl<B: Body, R: Finish> Body for LoggedBody<B, R> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame.trailers_ref().map(|t| grpc_code(t).unwrap_or("UNKNOWN")),
            Poll::Ready(Some(Err(_))) => Some("INTERNAL"),
            // A body that ends without trailers carried no status.
            Poll::Ready(None) => Some("UNKNOWN"),
            Poll::Pending => None,
        };
        if let Some(code) = code
            && let Some(record) = this.record.take()
        {
            record.finish(code);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The canonical name of the `grpc-status` in `headers`, if there is one.
pub fn grpc_code(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers.get("grpc-status")?.to_str().ok()?;
    Some(
        crate::proto::CODE_NAMES
            .get(value.parse::<usize>().ok()?)
            .copied()
            .unwrap_or("UNKNOWN"),
    )
}
