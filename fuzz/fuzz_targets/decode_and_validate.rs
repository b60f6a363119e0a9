//! Fuzz target: arbitrary bytes as the request message of any RPC, decoded
//! and validated exactly as the server would
//! ([`orders::domain::request::decode_and_validate`]). The first byte picks
//! the method, the rest is the message.
//!
//! Besides panics (including arithmetic overflow: cargo-fuzz builds with
//! debug assertions), it fails when a refusal is anything but the caller's
//! mistake: request parsing may answer INVALID_ARGUMENT or OUT_OF_RANGE,
//! never INTERNAL.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use orders::{
    domain::{page::PageTokenKey, request::decode_and_validate},
    error::ApiError,
    proto::Method,
};

/// Any key will do: no input can carry a valid signature anyway.
static KEY: LazyLock<PageTokenKey> = LazyLock::new(|| PageTokenKey::new(vec![7; 32]).expect("a 32-byte key"));

fuzz_target!(|data: &[u8]| {
    let Some((&pick, message)) = data.split_first() else {
        return;
    };
    let method = Method::ALL[usize::from(pick) % Method::ALL.len()];
    if let Err(error) = decode_and_validate(method, message, &KEY) {
        assert!(
            matches!(error, ApiError::InvalidArgument { .. } | ApiError::OutOfRange { .. }),
            "{method:?} refused with {error:?}"
        );
    }
});
