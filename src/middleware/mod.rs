//! tower layers wrapped around every gRPC call, outermost first:
//!
//! 0. [`cors::BrowserCorsLayer`] answers browsers' CORS preflights for the
//!    allowed web origins, then `tonic_web::GrpcWebLayer` turns gRPC-Web
//!    calls (HTTP/1.1 or HTTP/2) into gRPC calls, so that every layer below
//!    sees a browser's call as any other;
//! 1. [`log::CallLogLayer`]: one structured log line per call (method,
//!    status code, latency), including calls refused by the layers below;
//! 2. [`key_refetch::KeyRefetchLayer`]: a call whose token names an
//!    unknown `kid` waits for the JWKS URL to be fetched again (rate-limited);
//! 3. [`auth::AuthLayer`]: authenticates the caller and checks that its
//!    role may call the method (UNAUTHENTICATED / PERMISSION_DENIED);
//! 4. [`rate_limit::RateLimitLayer`]: a per-caller rate limit, refusing the
//!    excess at once (off with `--rate-limit-rps 0`);
//! 5. [`concurrency_limit::GlobalConcurrencyLimitLayer`]: a limit on calls in progress
//!    across all connections, refusing the excess at once;
//! 6. [`deadline::DeadlineLayer`]: ends a call at the earlier of the
//!    client's deadline and the server's maximum, with DEADLINE_EXCEEDED;
//! 7. [`codec_errors::rewrite_codec_errors`]: oversized or undecodable requests
//!    get RESOURCE_EXHAUSTED / INVALID_ARGUMENT instead of tonic's
//!    OUT_OF_RANGE / INTERNAL.
//!
//! [`status_body`] is the response body both the call log and the client
//! layer below use to see a call's status when it ends.
//!
//! The call log also opens each call's SERVER span when traces are on
//! ([`crate::traces`]). [`trace_client::TraceClientLayer`] is the one layer
//! for the other direction: around a client's channel, it traces outgoing
//! calls and sends their context.

pub mod auth;
pub mod check;
pub mod codec_errors;
pub mod concurrency_limit;
pub mod cors;
pub mod deadline;
pub mod key_refetch;
pub mod log;
pub mod rate_limit;
pub mod status_body;
pub mod trace_client;

/// The services that are never limited or timed out: load balancers must be
/// able to ask for health even when the server is saturated.
pub(crate) fn is_infrastructure(path: &str) -> bool {
    path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.")
}

/// The HTTP response of a gRPC call, as tonic's router produces it.
pub type GrpcResponse = http::Response<tonic::body::Body>;

/// A response that carries only a gRPC status (a "trailers-only" response).
pub(crate) fn status_response(status: tonic::Status) -> GrpcResponse {
    status.into_http()
}
