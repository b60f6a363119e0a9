//! Honest status codes for requests that cannot even be decoded.
//!
//! tonic answers a request body over the size limit with OUT_OF_RANGE and
//! bytes that are not a valid message with INTERNAL (following the table
//! for *library*-generated codes). For a caller both are its own mistake,
//! and INTERNAL would send it (and our alerts) looking for a server bug. So
//! these two are rewritten, with an `ErrorInfo` like every other error:
//!
//! * too large → RESOURCE_EXHAUSTED, reason `MESSAGE_TOO_LARGE` (what the gRPC
//!   spec prescribes for a message over the limit);
//! * undecodable → INVALID_ARGUMENT, reason `MALFORMED_MESSAGE`.

use tonic::{Code, Status};

use super::{GrpcResponse, status_response};
use crate::{
    domain::request::{MALFORMED_MESSAGE, MALFORMED_MESSAGE_TEXT},
    error::status_with_reason,
};

/// Rewrites tonic's codec errors; see the module documentation. Used with
/// `tower::util::MapResponseLayer`, since it only looks at the response.
pub fn rewrite_codec_errors(response: GrpcResponse) -> GrpcResponse {
    // Decoding failures come back as trailers-only responses, with the
    // status in the headers.
    let rewritten = Status::from_header_map(response.headers()).and_then(|status| rewrite(&status));
    rewritten.map_or(response, status_response)
}

fn rewrite(status: &Status) -> Option<Status> {
    let message = status.message();
    let (code, reason, text) = match status.code() {
        Code::OutOfRange if message.starts_with("Error, decoded message length too large") => (
            Code::ResourceExhausted,
            "MESSAGE_TOO_LARGE",
            format!("the request message is too large: {}", after_colon(message)),
        ),
        Code::Internal
            if message.starts_with("failed to decode Protobuf message") || message.starts_with("protocol error") =>
        {
            (
                Code::InvalidArgument,
                MALFORMED_MESSAGE,
                MALFORMED_MESSAGE_TEXT.to_owned(),
            )
        }
        _ => return None,
    };
    Some(status_with_reason(code, reason, text))
}

fn after_colon(message: &str) -> &str {
    message.split_once(": ").map_or(message, |(_, rest)| rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_and_undecodable_requests_are_the_callers_fault() {
        let too_large = Status::out_of_range(
            "Error, decoded message length too large: found 2000000 bytes, the limit is: 1048576 bytes",
        );
        let rewritten = rewrite(&too_large).unwrap();
        assert_eq!(rewritten.code(), Code::ResourceExhausted);
        assert_eq!(
            rewritten.message(),
            "the request message is too large: found 2000000 bytes, the limit is: 1048576 bytes"
        );
        let garbage = Status::internal("failed to decode Protobuf message: invalid wire type value: 7");
        assert_eq!(rewrite(&garbage).unwrap().code(), Code::InvalidArgument);
        assert!(rewrite(&Status::internal("internal error")).is_none());
        assert!(rewrite(&Status::out_of_range("adding 5 would exceed the limit")).is_none());
    }
}
