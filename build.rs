//! Compiles the protos under `proto/` with protox (a pure-Rust protobuf
//! compiler, so no `protoc` has to be installed) and generates the tonic
//! server and client code from the resulting descriptors.
//!
//! The encoded descriptor set is also written to `OUT_DIR` so that server
//! reflection can describe every message without .proto files at hand.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTO_ROOT: &str = "proto";
const PROTO_FILES: &[&str] = &[
    "orders/v1/money.proto",
    "orders/v1/address.proto",
    "orders/v1/catalog.proto",
    "orders/v1/orders.proto",
    "orders/v1/events.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Rebuild when a proto changes, and when a migration changes: the
    // migrations are embedded into the binary with `embed_migrations!`.
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=src/notifications/migrations");

    let descriptors = protox::Compiler::new([PROTO_ROOT])?
        .include_imports(true)
        .include_source_info(true)
        .open_files(PROTO_FILES)?
        .file_descriptor_set();

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("orders_descriptor.bin"), descriptors.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
