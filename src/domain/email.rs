//! A customer's email address, parsed once: what the notifications service
//! sends to. The syntax check is lettre's (the mail library that sends it),
//! so an address accepted here is one the sender can put in `To:`.

use std::fmt;

/// The longest address SMTP carries (RFC 5321's path limit less `<>`).
pub const MAX_EMAIL: usize = 254;

/// A syntactically valid address such as `ada@example.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses a required address.
    pub fn parse(value: &str) -> Result<Self, String> {
        let length = value.chars().count();
        if length > MAX_EMAIL {
            return Err(format!("must be at most {MAX_EMAIL} characters (got {length})"));
        }
        match value.parse::<lettre::Address>() {
            Ok(_) => Ok(EmailAddress(value.to_owned())),
            Err(_) => Err("must be an email address such as \"ada@example.com\"".to_owned()),
        }
    }

    /// Parses an optional address: empty means "none".
    pub fn parse_optional(value: &str) -> Result<Option<Self>, String> {
        match value.is_empty() {
            true => Ok(None),
            false => Self::parse(value).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn an_address_is_kept_as_given() {
        let address = EmailAddress::parse("Ada.Lovelace+orders@example.co.uk").unwrap();
        assert_eq!(address.as_str(), "Ada.Lovelace+orders@example.co.uk");
    }

    #[test]
    fn empty_means_none_and_malformed_is_refused() {
        assert_eq!(EmailAddress::parse_optional(""), Ok(None));
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada example@x.com",
            "ada@@x.com",
            " ada@x.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).unwrap_err().contains("at most 254"));
    }
}
