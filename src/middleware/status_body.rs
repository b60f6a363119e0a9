//! A response body that reports the end of its gRPC call, with the status
//! code, to whatever needs it: the call log and the metrics of a served
//! call ([`super::log`]), the span and the metrics of an outgoing call
//! ([`super::trace_client`]); and its bytes as they pass, for counting the
//! messages of a stream.
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

/// What a response body reports to: the end of its call, with the status
/// code's number, and (when it wants them) the bytes that pass.
pub trait Finish {
    fn finish(self, code: usize);

    /// The bytes of a data frame, as it passes.
    fn data(&mut self, _bytes: &[u8]) {}
}

const CANCELLED: usize = tonic::Code::Cancelled as usize;
const UNKNOWN: usize = tonic::Code::Unknown as usize;
const INTERNAL: usize = tonic::Code::Internal as usize;
/// For a call that got no response at all (the connection failed).
pub const UNAVAILABLE: usize = tonic::Code::Unavailable as usize;

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
                record.finish(CANCELLED);
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

impl<B: Body, R: Finish> Body for LoggedBody<B, R>
where
    B::Data: AsRef<[u8]>,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let (Poll::Ready(Some(Ok(frame))), Some(record)) = (&polled, this.record.as_mut())
            && let Some(data) = frame.data_ref()
        {
            record.data(data.as_ref());
        }
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame.trailers_ref().map(|t| grpc_code(t).unwrap_or(UNKNOWN)),
            Poll::Ready(Some(Err(_))) => Some(INTERNAL),
            // A body that ends without trailers carried no status.
            Poll::Ready(None) => Some(UNKNOWN),
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

/// The `grpc-status` in `headers` (its number), if there is one.
pub fn grpc_code(headers: &HeaderMap) -> Option<usize> {
    let value = headers.get("grpc-status")?.to_str().ok()?;
    Some(value.parse::<usize>().unwrap_or(UNKNOWN))
}

/// The canonical name of status code `code` (`NOT_FOUND`).
pub fn code_name(code: usize) -> &'static str {
    crate::proto::CODE_NAMES.get(code).copied().unwrap_or("UNKNOWN")
}
