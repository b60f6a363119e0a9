//! Assertions on the answers of the service: the code, the `ErrorInfo`
//! reason and the rich error details (`tonic_types`) of a failed call, and
//! values in a form that compares exactly (money, timestamps).
//!
//! Here so that every test checks errors the same way, and that every error
//! assertion also checks that the status message leaks nothing of the
//! database (see [`assert_clean_message`]).

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use orders::proto;

/// The `ErrorInfo.domain` of every error of the service.
pub const DOMAIN: &str = "orders";

/// Words that would betray database internals in a status message.
const LEAKY_WORDS: [&str; 5] = ["sql", "diesel", "constraint", "relation", "postgres"];

/// The rich error details of a status.
pub fn details(status: &Status) -> ErrorDetails {
    status
        .check_error_details()
        .unwrap_or_else(|e| panic!("undecodable error details in {status:?}: {e}"))
}

/// Asserts that `status` says nothing about the database.
pub fn assert_clean_message(status: &Status) {
    let message = status.message().to_lowercase();
    for word in LEAKY_WORDS {
        assert!(!message.contains(word), "status message leaks {word:?}: {status:?}");
    }
}

/// Asserts the code, the `ErrorInfo` (reason, domain "orders") and a clean
/// message, and returns the details for further checks.
#[track_caller]
pub fn assert_error(status: &Status, code: Code, reason: &str) -> ErrorDetails {
    assert_error_in(DOMAIN, status, code, reason)
}

/// [`assert_error`] for a service whose errors carry `domain`.
#[track_caller]
pub fn assert_error_in(domain: &str, status: &Status, code: Code, reason: &str) -> ErrorDetails {
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    let details = details(status);
    let info = details
        .error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.reason, reason, "ErrorInfo.reason of {status:?}");
    assert_eq!(info.domain, domain, "ErrorInfo.domain of {status:?}");
    assert_clean_message(status);
    details
}

/// The `BadRequest` field paths of a status, in order.
pub fn bad_fields(details: &ErrorDetails) -> Vec<String> {
    let request = details.bad_request().expect("a BadRequest");
    request.field_violations.iter().map(|v| v.field.clone()).collect()
}

/// Asserts INVALID_ARGUMENT (reason INVALID_FIELDS) naming exactly `fields`.
#[track_caller]
pub fn assert_invalid_fields(status: &Status, fields: &[impl AsRef<str>]) {
    let details = assert_error(status, Code::InvalidArgument, "INVALID_FIELDS");
    let expected: Vec<&str> = fields.iter().map(AsRef::as_ref).collect();
    assert_eq!(bad_fields(&details), expected, "BadRequest fields of {status:?}");
    let request = details.bad_request().expect("a BadRequest");
    assert!(
        request.field_violations.iter().all(|v| !v.description.is_empty()),
        "every violation is described: {status:?}"
    );
}

/// Asserts NOT_FOUND with `reason` and a `ResourceInfo` naming `name`.
#[track_caller]
pub fn assert_not_found(status: &Status, reason: &str, resource_type: &str, name: &str) {
    let details = assert_error(status, Code::NotFound, reason);
    let info = details.resource_info().expect("a ResourceInfo");
    assert_eq!(info.resource_type, resource_type);
    assert_eq!(info.resource_name, name);
}

/// The `PreconditionFailure` violations of a status as `"<type> <subject>"`,
/// in order.
pub fn precondition_violations(details: &ErrorDetails) -> Vec<String> {
    let failure = details.precondition_failure().expect("a PreconditionFailure");
    (failure.violations.iter())
        .map(|v| format!("{} {}", v.r#type, v.subject))
        .collect()
}

/// An amount as `"EUR 12.500000000"`, for exact comparisons ("-" if unset).
pub fn show_money(money: &Option<proto::Money>) -> String {
    match money {
        Some(m) => format!("{} {}.{:09}", m.currency_code, m.units, m.nanos),
        None => "-".to_owned(),
    }
}

/// A timestamp as a comparable `(seconds, nanos)` pair; panics when unset.
pub fn time(timestamp: Option<prost_types::Timestamp>) -> (i64, i32) {
    let t = timestamp.expect("a timestamp");
    (t.seconds, t.nanos)
}
