//! The Rust code generated from `proto/` by `build.rs`, and the encoded file
//! descriptor set that server reflection serves.

#![allow(clippy::all, missing_docs)]

/// Package `orders.v1`: messages, server traits and clients.
pub mod orders {
    pub mod v1 {
        tonic::include_proto!("orders.v1");
    }
}

pub use orders::v1::*;

/// Every file of the API and its imports (such as
/// `google/protobuf/timestamp.proto`), with comments, so that grpcurl can
/// `list`, `describe` and call every method without .proto files.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/orders_descriptor.bin"));
