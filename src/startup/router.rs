//! The gRPC server of a process (gRPC, and gRPC-Web for browsers, on one
//! port): the tower layers around every call, then health, reflection (for
//! every service in the descriptor set) and the services this process runs.

use std::sync::Arc;

use tonic::transport::{Server, ServerTlsConfig};
use tonic_web::GrpcWebLayer;
use tower::{
    layer::util::{Identity, Stack},
    util::MapResponseLayer,
};

use super::StartupError;
use crate::{
    actions::AppState,
    auth::Gate,
    config::{Settings, WebOrigin},
    middleware::{
        GrpcResponse,
        auth::AuthLayer,
        codec_errors::rewrite_codec_errors,
        concurrency_limit::GlobalConcurrencyLimitLayer,
        cors::BrowserCorsLayer,
        deadline::DeadlineLayer,
        key_refetch::KeyRefetchLayer,
        log::CallLogLayer,
        rate_limit::{RateLimitLayer, RateLimiter},
    },
    payments::{actions::PaymentsState, service::PaymentApi},
    proto::{
        self, audit_service_server::AuditServiceServer, catalog_service_server::CatalogServiceServer,
        order_service_server::OrderServiceServer, payments::v1::payment_service_server::PaymentServiceServer,
    },
    service::{audit::AuditApi, catalog::CatalogApi, orders::OrderApi},
};

/// The largest request message accepted (the biggest valid CreateOrder is
/// far smaller); anything larger is refused before it is decoded.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The tower layers around every call (see [`crate::middleware`]).
pub(super) type Layers = Stack<
    MapResponseLayer<fn(GrpcResponse) -> GrpcResponse>,
    Stack<
        DeadlineLayer,
        Stack<
            GlobalConcurrencyLimitLayer,
            Stack<
                RateLimitLayer,
                Stack<
                    AuthLayer,
                    Stack<KeyRefetchLayer, Stack<CallLogLayer, Stack<GrpcWebLayer, Stack<BrowserCorsLayer, Identity>>>>,
                >,
            >,
        >,
    >,
>;

/// The router; the catalog, order and audit services only where `orders`
/// (the orders service's state) is given, the payment service where
/// `payments` is.
pub(super) fn router(
    orders: Option<&AppState>,
    payments: Option<&PaymentsState>,
    settings: &Settings,
    origins: &[WebOrigin],
    gate: Arc<Gate>,
    tls: Option<ServerTlsConfig>,
    health_service: tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>,
) -> Result<tonic::transport::server::Router<Layers>, StartupError> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // google.rpc.ErrorInfo & co., so grpcurl can print error details.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            // Both reflection versions, so `list` shows both whichever is asked.
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
    };
    let catalog = orders.map(|state| {
        CatalogServiceServer::new(CatalogApi::new(state.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES)
    });
    let audit = orders.map(|state| {
        AuditServiceServer::new(AuditApi::new(state.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES)
    });
    let orders = orders.map(|state| {
        OrderServiceServer::new(OrderApi::new(state.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES)
    });
    let payments = payments.map(|state| {
        PaymentServiceServer::new(PaymentApi::new(state.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES)
    });
    let server = match tls {
        Some(tls) => Server::builder().tls_config(tls)?,
        None => Server::builder(),
    };
    let rate = settings.server.rate_limit_rps;
    let limiter = (rate > 0.0).then(|| Arc::new(RateLimiter::new(rate, settings.server.rate_limit_burst)));
    let auth = &settings.security.auth;
    let failures = (auth.is_enabled() && auth.auth_failure_rate > 0.0)
        .then(|| Arc::new(RateLimiter::new(auth.auth_failure_rate, auth.auth_failure_burst)));
    // Layers run in the order added. Browsers' preflights are answered
    // first, and gRPC-Web calls turned into gRPC calls, so that everything
    // after sees a browser's call as any other: the log line sees every call, including
    // those refused further in; nothing but the log runs before the caller
    // is authenticated (but fetching keys the caller's token needs), and
    // the rate limit counts only admitted calls.
    // HTTP/1.1 as well as HTTP/2, for gRPC-Web from browsers that cannot
    // use HTTP/2 without TLS.
    Ok(server
        .accept_http1(true)
        .layer(BrowserCorsLayer::new(origins))
        .layer(GrpcWebLayer::new())
        .layer(CallLogLayer)
        .layer(KeyRefetchLayer::new(gate.clone()))
        .layer(AuthLayer::from_gate(gate, failures))
        .layer(RateLimitLayer::new(limiter))
        .layer(GlobalConcurrencyLimitLayer::new(settings.server.concurrency_limit))
        .layer(DeadlineLayer::new(settings.server.request_timeout))
        .layer(MapResponseLayer::new(
            rewrite_codec_errors as fn(GrpcResponse) -> GrpcResponse,
        ))
        .add_service(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_optional_service(catalog)
        .add_optional_service(orders)
        .add_optional_service(audit)
        .add_optional_service(payments))
}
