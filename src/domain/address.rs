//! A validated shipping address.

use crate::proto;

use super::{
    fields::{quote, text},
    violations::Violations,
};

/// A shipping address whose fields are trimmed and bounded and whose country
/// is a real ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub recipient: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country_code: String,
}

/// Parses `field` (e.g. `shipping_address`), recording every violation.
pub fn parse_address(field: &str, value: Option<&proto::Address>, violations: &mut Violations) -> Option<Address> {
    let Some(value) = value else {
        violations.add(field, "is required");
        return None;
    };
    let mut check = |name: &str, raw: &str, min, max| violations.check(format!("{field}.{name}"), text(raw, min, max));
    let recipient = check("recipient", &value.recipient, 1, 200);
    let line1 = check("line1", &value.line1, 1, 200);
    let line2 = check("line2", &value.line2, 0, 200);
    let city = check("city", &value.city, 1, 100);
    let region = check("region", &value.region, 0, 100);
    let postal_code = check("postal_code", &value.postal_code, 0, 20);
    let country_code = violations.check(format!("{field}.country_code"), country(&value.country_code));
    Some(Address {
        recipient: recipient?,
        line1: line1?,
        line2: line2?,
        city: city?,
        region: region?,
        postal_code: postal_code?,
        country_code: country_code?,
    })
}

/// Checks an ISO 3166-1 alpha-2 country code such as "DE" (upper case).
fn country(code: &str) -> Result<String, String> {
    if code.is_empty() {
        return Err("is required".to_owned());
    }
    let upper_ascii = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
    match isocountry::CountryCode::for_alpha2(code) {
        Ok(_) if upper_ascii => Ok(code.to_owned()),
        _ => Err(format!(
            "{} is not an ISO 3166-1 alpha-2 country code such as \"DE\"",
            quote(code)
        )),
    }
}

impl From<Address> for proto::Address {
    fn from(a: Address) -> Self {
        proto::Address {
            recipient: a.recipient,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country_code: a.country_code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> proto::Address {
        proto::Address {
            recipient: "Ada Lovelace".into(),
            line1: "12 St James's Square".into(),
            city: "London".into(),
            postal_code: "SW1Y 4JH".into(),
            country_code: "GB".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_address_is_trimmed() {
        let mut v = Violations::default();
        let mut raw = valid();
        raw.city = "  London ".into();
        let address = parse_address("shipping_address", Some(&raw), &mut v).unwrap();
        assert!(v.is_empty());
        assert_eq!(address.city, "London");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut v = Violations::default();
        let raw = proto::Address {
            country_code: "gb".into(),
            ..Default::default()
        };
        assert!(parse_address("shipping_address", Some(&raw), &mut v).is_none());
        let fields: Vec<_> = match v.into_error() {
            crate::error::ApiError::InvalidArgument { violations, .. } => {
                violations.into_iter().map(|v| v.field).collect()
            }
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            fields,
            [
                "shipping_address.recipient",
                "shipping_address.line1",
                "shipping_address.city",
                "shipping_address.country_code"
            ]
        );
    }
}
