//! The protocol: the Rust code generated from `proto/` by `build.rs`, the
//! encoded file descriptor set that server reflection serves, the list of
//! the API's methods ([`Method`]) and the names of gRPC's status codes.

pub mod method;

pub use method::Method;

/// Package `orders.v1`: messages, server traits and clients.
#[allow(clippy::all, missing_docs)]
pub mod orders {
    pub mod v1 {
        tonic::include_proto!("orders.v1");
    }
}

pub use orders::v1::*;

/// Package `payments.v1`: the payment service's messages, events, server
/// and client (its amounts are `orders.v1.Money`).
#[allow(clippy::all, missing_docs)]
pub mod payments {
    pub mod v1 {
        tonic::include_proto!("payments.v1");
    }
}

/// Every file of the API and its imports (such as
/// `google/protobuf/timestamp.proto`), with comments, so that grpcurl can
/// `list`, `describe` and call every method without .proto files.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/orders_descriptor.bin"));

/// The canonical names of the gRPC status codes, indexed by number, as the
/// call log and `orders-load` name the codes they count.
pub const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];
