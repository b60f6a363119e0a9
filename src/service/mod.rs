//! The gRPC services. Each handler is thin: parse the request into domain
//! types, run the action ([`crate::actions`]) detached from the call, and
//! let `?` map errors to statuses ([`crate::error`]).

pub mod audit;
pub mod catalog;
pub mod health;
pub mod orders;
