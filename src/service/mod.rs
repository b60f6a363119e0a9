//! The gRPC services. Each handler is thin: parse the request into domain
//! types, run the action ([`crate::actions`]) detached from the call, and
//! let `?` map errors to statuses ([`crate::error`]).

pub mod catalog;
pub mod health;
pub mod orders;

use crate::{
    domain::{fields, violations::Violations},
    error::ApiError,
};

/// Parses a single-UUID request field such as `order_id`.
fn parse_id(field: &str, value: &str) -> Result<uuid::Uuid, ApiError> {
    let mut v = Violations::default();
    let id = v.check(field, fields::uuid(value));
    v.finish(id)
}
