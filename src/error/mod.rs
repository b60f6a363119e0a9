//! The one error type of the service and its mapping to the wire.
//!
//! Handlers return [`ApiError`]; the conversion into [`tonic::Status`] is the
//! only place that decides status codes and rich details (AIP-193): every
//! status carries an `ErrorInfo` with a stable reason and the domain
//! [`ERROR_DOMAIN`], plus `BadRequest`, `ResourceInfo` or
//! `PreconditionFailure` where they apply. Database and other internal
//! detail is logged here, once, and never sent to the caller.

use std::{collections::HashMap, time::Duration};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub use crate::domain::violations::FieldViolation;
pub use database::{is_connection_failure, on_constraint};

mod database;

/// The `ErrorInfo.domain` of the orders service's errors (and of those the
/// middleware raises); another service of this binary names its own
/// ([`ApiError::into_status`]).
pub const ERROR_DOMAIN: &str = "orders";

/// How long callers are told to wait before retrying an `UNAVAILABLE`.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// The most bytes of field paths and descriptions put in a `BadRequest`.
/// Details travel base64-encoded in a response header, and clients refuse
/// headers past 8 KiB (grpc-java, grpc-core) or 16 KiB (hyper), failing the
/// call with a protocol error instead of showing the caller its mistake. A
/// request can have some 200 violations; the status message counts them all.
const BAD_REQUEST_BUDGET: usize = 4096;

type Cause = Box<dyn std::error::Error + Send + Sync>;

/// One failed precondition, named for `PreconditionFailure`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreconditionViolation {
    /// The kind of precondition, e.g. `STOCK`.
    pub kind: &'static str,
    /// What it is about, e.g. `products/<uuid>`.
    pub subject: String,
    /// What is wrong and how to fix it.
    pub description: String,
}

/// Everything that can go wrong in a call, in the caller's terms.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed, whatever the state of the system.
    #[error("{message}")]
    InvalidArgument {
        reason: &'static str,
        message: String,
        violations: Vec<FieldViolation>,
    },
    /// The named resource does not exist (or the caller may not see it).
    #[error("{resource_type} {name:?} was not found")]
    NotFound {
        reason: &'static str,
        resource_type: &'static str,
        name: String,
    },
    /// A resource with the same unique key exists already.
    #[error("{message}")]
    AlreadyExists {
        reason: &'static str,
        message: String,
        resource_type: &'static str,
        name: String,
    },
    /// The system is not in the state the call needs.
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        message: String,
        violations: Vec<PreconditionViolation>,
    },
    /// The resource changed since the caller read it (its etag is stale):
    /// nothing was changed. Retrying the same call cannot succeed; reading
    /// the resource again and reapplying the change can.
    #[error("{message}")]
    StaleEtag {
        message: String,
        resource_type: &'static str,
        name: String,
    },
    /// A value is valid on its own but would push a quantity past its limit.
    #[error("{message}")]
    OutOfRange {
        reason: &'static str,
        message: String,
        field: &'static str,
    },
    /// The call carries no valid credentials.
    #[error("{message}")]
    Unauthenticated { reason: &'static str, message: String },
    /// The caller is known but may not do this.
    #[error("{message}")]
    PermissionDenied { reason: &'static str, message: String },
    /// The caller has used up a limit; it may retry after `retry_after`.
    #[error("{message}")]
    RateLimited {
        /// `RATE_LIMITED` (calls per caller) or `AUTH_RATE_LIMITED` (failed
        /// authentications per peer).
        reason: &'static str,
        message: String,
        /// Who is limited (for `QuotaFailure.subject`), e.g. `caller/alice`.
        subject: String,
        /// What the limit counts (for `QuotaFailure.description`).
        quota: &'static str,
        retry_after: Duration,
    },
    /// The call's deadline passed before the database finished its work
    /// (a pool checkout or a statement gave up at the deadline).
    #[error("the call's deadline passed before the database finished its work")]
    DeadlineExceeded,
    /// PostgreSQL aborted the transaction because it conflicted with a
    /// concurrent one (a serialization failure or a deadlock). Nothing was
    /// changed, and running it again may succeed: the server does so a few
    /// times ([`crate::actions::detached()`]) before the caller sees this.
    #[error("the change conflicted with concurrent changes and was not made; retry it")]
    Aborted(#[source] Cause),
    /// The database cannot be reached right now; the call may be retried.
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    /// Another system the call needs (such as a payment processor) cannot
    /// be reached right now; nothing was changed and the call may be retried.
    #[error("{message}")]
    DependencyUnavailable { reason: &'static str, message: String },
    /// A bug or an unexpected failure; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Cause),
}

impl ApiError {
    /// An `INVALID_ARGUMENT` for a single field.
    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        FieldViolation::new(field, description).into()
    }

    /// An `INTERNAL` error from anything that can be logged.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        ApiError::Internal(cause.into())
    }

    /// The gRPC status code this error is sent with.
    pub fn code(&self) -> Code {
        match self {
            ApiError::InvalidArgument { .. } => Code::InvalidArgument,
            ApiError::NotFound { .. } => Code::NotFound,
            ApiError::AlreadyExists { .. } => Code::AlreadyExists,
            ApiError::FailedPrecondition { .. } => Code::FailedPrecondition,
            ApiError::OutOfRange { .. } => Code::OutOfRange,
            ApiError::Unauthenticated { .. } => Code::Unauthenticated,
            ApiError::PermissionDenied { .. } => Code::PermissionDenied,
            ApiError::RateLimited { .. } => Code::ResourceExhausted,
            ApiError::DeadlineExceeded => Code::DeadlineExceeded,
            ApiError::Aborted(_) | ApiError::StaleEtag { .. } => Code::Aborted,
            ApiError::Unavailable(_) | ApiError::DependencyUnavailable { .. } => Code::Unavailable,
            ApiError::Internal(_) => Code::Internal,
        }
    }

    /// True when retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ApiError::Aborted(_)
                | ApiError::Unavailable(_)
                | ApiError::DependencyUnavailable { .. }
                | ApiError::RateLimited { .. }
        )
    }

    fn reason(&self) -> &'static str {
        match self {
            ApiError::InvalidArgument { reason, .. }
            | ApiError::NotFound { reason, .. }
            | ApiError::AlreadyExists { reason, .. }
            | ApiError::FailedPrecondition { reason, .. }
            | ApiError::OutOfRange { reason, .. }
            | ApiError::Unauthenticated { reason, .. }
            | ApiError::PermissionDenied { reason, .. }
            | ApiError::DependencyUnavailable { reason, .. }
            | ApiError::RateLimited { reason, .. } => reason,
            ApiError::DeadlineExceeded => "DEADLINE_EXCEEDED",
            ApiError::Aborted(_) => "TRANSACTION_CONFLICT",
            ApiError::StaleEtag { .. } => "ETAG_MISMATCH",
            ApiError::Unavailable(_) => "DATABASE_UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    fn details(&self, domain: &'static str) -> ErrorDetails {
        let mut details = error_info(self.reason(), domain);
        match self {
            ApiError::InvalidArgument { violations, .. } if !violations.is_empty() => {
                details.set_bad_request(within_budget(violations).map(to_wire_violation).collect::<Vec<_>>());
            }
            ApiError::NotFound {
                resource_type, name, ..
            } => {
                details.set_resource_info(*resource_type, name, "", "not found");
            }
            ApiError::AlreadyExists {
                resource_type, name, ..
            } => {
                details.set_resource_info(*resource_type, name, "", "already exists");
            }
            ApiError::StaleEtag {
                resource_type, name, ..
            } => {
                details.set_resource_info(*resource_type, name, "", "changed since its etag was read");
            }
            ApiError::FailedPrecondition { violations, .. } if !violations.is_empty() => {
                details.set_precondition_failure(
                    violations
                        .iter()
                        .map(|v| tonic_types::PreconditionViolation::new(v.kind, &v.subject, &v.description))
                        .collect::<Vec<_>>(),
                );
            }
            ApiError::OutOfRange { field, message, .. } => {
                details.set_bad_request(vec![tonic_types::FieldViolation::new(*field, message)]);
            }
            ApiError::Unavailable(_) | ApiError::DependencyUnavailable { .. } => {
                details.set_retry_info(Some(RETRY_DELAY));
            }
            ApiError::RateLimited {
                subject,
                quota,
                retry_after,
                ..
            } => {
                details.set_retry_info(Some(*retry_after));
                details.set_quota_failure(vec![tonic_types::QuotaViolation::new(subject, *quota)]);
            }
            _ => {}
        }
        details
    }

    fn public_message(&self) -> String {
        match self {
            ApiError::Unavailable(_) => "the database is unavailable; retry with backoff".to_owned(),
            ApiError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }
}

/// The first violations, as many as fit in [`BAD_REQUEST_BUDGET`].
fn within_budget(violations: &[FieldViolation]) -> impl Iterator<Item = &FieldViolation> {
    let mut spent = 0;
    violations.iter().take_while(move |v| {
        spent += v.field.len() + v.description.len();
        spent <= BAD_REQUEST_BUDGET
    })
}

fn to_wire_violation(v: &FieldViolation) -> tonic_types::FieldViolation {
    tonic_types::FieldViolation::new(&v.field, &v.description)
}

/// A status with an `ErrorInfo` for errors raised outside the handlers (by
/// the middleware), so that every error carries one.
pub fn status_with_reason(code: Code, reason: &str, message: impl Into<String>) -> Status {
    Status::with_error_details(code, message, error_info(reason, ERROR_DOMAIN))
}

/// Details holding the `ErrorInfo` that every error carries.
fn error_info(reason: &str, domain: &'static str) -> ErrorDetails {
    ErrorDetails::with_error_info(reason, domain, HashMap::new())
}

impl ApiError {
    /// The status of this error as a service whose `ErrorInfo.domain` is
    /// `domain` sends it; the single place where causes are logged:
    /// handlers just propagate.
    pub fn into_status(self, domain: &'static str) -> Status {
        match &self {
            ApiError::Internal(cause) => tracing::error!(error = %cause, ?cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(error = %cause, "unavailable"),
            ApiError::Aborted(cause) => tracing::warn!(error = %cause, "transaction conflict persisted"),
            _ => {}
        }
        Status::with_error_details(self.code(), self.public_message(), self.details(domain))
    }
}

impl From<ApiError> for Status {
    /// The orders service's errors ([`ERROR_DOMAIN`]).
    fn from(error: ApiError) -> Status {
        error.into_status(ERROR_DOMAIN)
    }
}

impl From<FieldViolation> for ApiError {
    fn from(violation: FieldViolation) -> Self {
        crate::domain::violations::Violations::from(vec![violation]).into_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_request_keeps_the_first_violations_that_fit_its_budget() {
        let violations: Vec<_> = (0..1000)
            .map(|i| FieldViolation::new(format!("line_items[{i}].quantity"), "must be between 1 and 1000"))
            .collect();
        let kept: Vec<_> = within_budget(&violations).collect();
        let size: usize = kept.iter().map(|v| v.field.len() + v.description.len()).sum();
        assert!(size <= BAD_REQUEST_BUDGET && size + 50 > BAD_REQUEST_BUDGET, "{size}");
        assert!(kept.iter().zip(&violations).all(|(kept, first)| kept == &first));
        assert_eq!(within_budget(&violations[..3]).count(), 3);
    }
}
