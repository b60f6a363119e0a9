//! The spans of gRPC calls, by OpenTelemetry's RPC conventions: named
//! `{rpc.service}/{rpc.method}` (e.g. `orders.v1.OrderService/CreateOrder`),
//! kind SERVER for a call this server answers ([`crate::middleware::log`])
//! and CLIENT for one it makes ([`crate::middleware::trace_client`]), with `rpc.system`,
//! `rpc.service`, `rpc.method` and, once the call ends,
//! `rpc.grpc.status_code`.

use tracing::{Span, field::Empty};

use super::{SPANS, propagation};

/// The span of a call to `path` this server answers, continuing the trace
/// of the caller's `traceparent`, if any. Disabled when traces are off.
pub fn server_span(request: &http::Request<impl Sized>) -> Span {
    let span = rpc_span(request, "server");
    if !span.is_disabled() {
        propagation::set_parent(&span, propagation::from_headers(request.headers()));
    }
    span
}

/// The span of a call to `path` this process makes, a child of the
/// current span. Disabled when traces are off.
pub fn client_span(request: &http::Request<impl Sized>) -> Span {
    rpc_span(request, "client")
}

/// The span of a call to the request's path, of `kind` (`server`, `client`).
fn rpc_span(request: &http::Request<impl Sized>, kind: &'static str) -> Span {
    let path = request.uri().path();
    let (service, method) = split(path);
    tracing::info_span!(
        target: SPANS,
        "grpc",
        otel.name = path.trim_start_matches('/'),
        otel.kind = kind,
        otel.status_code = Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = Empty,
        server.address = request.uri().host(),
        server.port = request.uri().port_u16(),
    )
}

/// Records how the call of `span` ended (`code`: the status code's
/// number). Errors by the conventions: for a server, only the codes that
/// say the server failed; for a client, every code but OK.
pub fn finish(span: &Span, code: usize, server: bool) {
    if span.is_disabled() {
        return;
    }
    use tonic::Code;
    // A number past the known codes is UNKNOWN, as its name is.
    let code = if code < crate::proto::CODE_NAMES.len() {
        code
    } else {
        Code::Unknown as usize
    };
    span.record("rpc.grpc.status_code", code as i64);
    const SERVER_ERRORS: [Code; 6] = [
        Code::Unknown,
        Code::DeadlineExceeded,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
    ];
    let error = match server {
        true => SERVER_ERRORS.iter().any(|error| *error as usize == code),
        false => code != Code::Ok as usize,
    };
    if error {
        span.record("otel.status_code", "error");
    }
}

/// `/pkg.Service/Method` as (`pkg.Service`, `Method`).
fn split(path: &str) -> (&str, &str) {
    let path = path.trim_start_matches('/');
    path.rsplit_once('/').unwrap_or((path, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_splits_into_service_and_method() {
        assert_eq!(
            split("/orders.v1.OrderService/CreateOrder"),
            ("orders.v1.OrderService", "CreateOrder")
        );
        assert_eq!(split("/nothing"), ("nothing", ""));
    }
}
