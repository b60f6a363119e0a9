//! Collecting field violations, so that one `INVALID_ARGUMENT` names every
//! bad field of a request instead of only the first.

use crate::error::ApiError;

/// The `ErrorInfo.reason` of a request with malformed fields.
pub const INVALID_FIELDS: &str = "INVALID_FIELDS";

/// One bad field, with its path in the request (e.g. `line_items[2].quantity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        FieldViolation {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// The violations found so far while parsing one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl From<Vec<FieldViolation>> for Violations {
    fn from(violations: Vec<FieldViolation>) -> Self {
        Violations(violations)
    }
}

impl Violations {
    /// Records a violation of `field`.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Keeps the value of a field that parsed, or records why it did not.
    pub fn check<T>(&mut self, field: impl Into<String>, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|description| self.add(field, description)).ok()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Finishes parsing: `Ok(value)` when there were no violations (in which
    /// case `value` must be `Some`), else one `INVALID_ARGUMENT` naming all.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ApiError> {
        match value {
            Some(value) if self.is_empty() => Ok(value),
            _ => Err(self.into_error()),
        }
    }

    /// The `INVALID_ARGUMENT` error that names every violation.
    pub fn into_error(self) -> ApiError {
        let message = match self.0.as_slice() {
            [] => "the request is invalid".to_owned(),
            [only] => format!("{}: {}", only.field, only.description),
            [first, rest @ ..] => format!(
                "{}: {} (and {} more invalid field{})",
                first.field,
                first.description,
                rest.len(),
                if rest.len() == 1 { "" } else { "s" }
            ),
        };
        ApiError::InvalidArgument {
            reason: INVALID_FIELDS,
            message,
            violations: self.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_first_violation_and_counts_the_rest() {
        let mut v = Violations::default();
        v.add("sku", "must not be empty");
        v.add("price", "is required");
        v.add("stock", "must not be negative");
        let error = v.into_error();
        assert_eq!(error.to_string(), "sku: must not be empty (and 2 more invalid fields)");
        match error {
            ApiError::InvalidArgument { violations, .. } => assert_eq!(violations.len(), 3),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn finish_without_violations_returns_the_value() {
        assert_eq!(Violations::default().finish(Some(7)).unwrap(), 7);
    }
}
