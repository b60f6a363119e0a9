//! Parsers for the scalar fields shared by several requests: ids, free text
//! and customer ids. Each returns a description of what is wrong, for
//! [`super::violations::Violations::check`].

use uuid::Uuid;

/// Parses a required UUID such as `product_id` or `order_id`.
pub fn uuid(value: &str) -> Result<Uuid, String> {
    if value.is_empty() {
        return Err("is required".to_owned());
    }
    Uuid::try_parse(value).map_err(|_| "must be a UUID such as \"6f1c2b9e-3f4a-4d5b-9c8e-1a2b3c4d5e6f\"".to_owned())
}

/// Parses an optional idempotency key: empty means "none".
pub fn request_id(value: &str) -> Result<Option<Uuid>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        uuid(value).map(Some)
    }
}

/// Trims and checks free text: no control characters, and between `min`
/// and `max` characters (Unicode scalar values) after trimming.
pub fn text(value: &str, min: usize, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    let length = trimmed.chars().count();
    if length < min {
        return Err(if min == 1 {
            "is required".to_owned()
        } else {
            format!("must be at least {min} characters")
        });
    }
    if length > max {
        return Err(format!("must be at most {max} characters (got {length})"));
    }
    Ok(trimmed.to_owned())
}

/// The longest accepted customer id, in characters.
pub const CUSTOMER_ID_MAX: usize = 128;

/// Checks a customer id: an opaque id from the caller's identity system,
/// 1–128 characters without white space or control characters. It is used
/// exactly as given (never trimmed), because it is a key.
pub fn customer_id(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("is required".to_owned());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain white space or control characters".to_owned());
    }
    if value.chars().count() > CUSTOMER_ID_MAX {
        return Err(format!("must be at most {CUSTOMER_ID_MAX} characters"));
    }
    Ok(value.to_owned())
}

/// The most characters of a caller's value quoted back by [`quote`].
pub const QUOTE_MAX: usize = 32;

/// `value` quoted for an error description, cut after [`QUOTE_MAX`]
/// characters. Descriptions travel in the status headers, which clients
/// refuse past 8–16 KiB (dropping the connection), so a huge value must
/// never come back whole.
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTE_MAX) {
        None => format!("{value:?}"),
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_accepts_canonical_and_rejects_garbage() {
        assert!(uuid("6f1c2b9e-3f4a-4d5b-9c8e-1a2b3c4d5e6f").is_ok());
        assert_eq!(uuid("").unwrap_err(), "is required");
        assert!(uuid("42").is_err());
        assert!(uuid("'; DROP TABLE orders; --").is_err());
    }

    #[test]
    fn text_trims_and_bounds_by_characters_not_bytes() {
        assert_eq!(text("  Tea  ", 1, 5).unwrap(), "Tea");
        assert_eq!(text("ééééé", 1, 5).unwrap(), "ééééé");
        assert!(text("éééééé", 1, 5).is_err());
        assert_eq!(text("   ", 1, 5).unwrap_err(), "is required");
        assert!(text("a\u{0}b", 0, 5).is_err());
        assert_eq!(text("", 0, 5).unwrap(), "");
    }

    #[test]
    fn quote_cuts_long_values() {
        assert_eq!(quote("Germany"), "\"Germany\"");
        assert_eq!(quote("a\u{0}"), "\"a\\0\"");
        assert_eq!(quote(&"🦀".repeat(200_000)), format!("{:?}…", "🦀".repeat(QUOTE_MAX)));
    }

    #[test]
    fn customer_id_is_a_key_without_spaces() {
        assert_eq!(customer_id("cust-42").unwrap(), "cust-42");
        assert!(customer_id(" cust").is_err());
        assert!(customer_id(&"x".repeat(129)).is_err());
        assert!(customer_id(&"x".repeat(128)).is_ok());
    }
}
