//! The payment service's rules, without I/O: requests parsed into types
//! that cannot hold invalid values ([`requests`]), and the ledger's
//! arithmetic, which says what a payment's movements make of it and which
//! movements a capture, a cancellation or a refund adds ([`ledger`]).
//!
//! The bottom of the payments tree: it uses only the shared parsers of
//! [`crate::domain`] (money, fields, violations) and the generated
//! messages. [`crate::domain::request`], the fuzz target's dispatcher,
//! calls [`requests`] for the payment methods, so the fuzzer exercises the
//! parsers the service runs.

pub mod ledger;
pub mod requests;

/// The `ErrorInfo.domain` of the payment service's errors.
pub const ERROR_DOMAIN: &str = "payments";

/// Nano units in one unit.
pub const NANOS_PER_UNIT: i64 = 1_000_000_000;
