//! Exact money: an ISO 4217 currency and an integer number of nano units.
//!
//! Amounts are never floats. Arithmetic is done on `i128` nanos and is
//! checked, so a total can never silently wrap around.

use crate::proto;

use super::{fields::quote, violations::Violations};

const NANOS_PER_UNIT: i128 = 1_000_000_000;

/// The highest accepted unit price, in whole units. With at most 100 lines
/// of at most 1000 units each, an order total stays below 10^17 units, far
/// inside `i64`.
pub const MAX_PRICE_UNITS: i64 = 1_000_000_000_000;

/// An amount in one currency. Invariant: the whole units fit in an `i64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    currency_code: String,
    total_nanos: i128,
}

impl Money {
    /// Builds an amount from the wire representation, checking the currency
    /// and that `nanos` is in range with the same sign as `units`.
    pub fn from_parts(currency_code: &str, units: i64, nanos: i32) -> Result<Self, String> {
        currency(currency_code)?;
        if !(-999_999_999..=999_999_999).contains(&nanos) {
            return Err("nanos must be between -999999999 and 999999999".to_owned());
        }
        if (units > 0 && nanos < 0) || (units < 0 && nanos > 0) {
            return Err("units and nanos must have the same sign".to_owned());
        }
        Ok(Money {
            currency_code: currency_code.to_owned(),
            total_nanos: i128::from(units) * NANOS_PER_UNIT + i128::from(nanos),
        })
    }

    pub fn currency_code(&self) -> &str {
        &self.currency_code
    }

    /// The whole units (truncated towards zero, like `google.type.Money`).
    pub fn units(&self) -> i64 {
        i64::try_from(self.total_nanos / NANOS_PER_UNIT).expect("invariant: units fit in i64")
    }

    /// The nano units, with the same sign as [`Money::units`].
    pub fn nanos(&self) -> i32 {
        i32::try_from(self.total_nanos % NANOS_PER_UNIT).expect("always below 10^9")
    }

    /// The whole amount in nano units.
    pub fn total_nanos(&self) -> i128 {
        self.total_nanos
    }

    pub fn is_positive(&self) -> bool {
        self.total_nanos > 0
    }

    /// `self × quantity`, or `None` when the result would not fit.
    pub fn checked_mul(&self, quantity: i64) -> Option<Money> {
        self.with_total(self.total_nanos.checked_mul(i128::from(quantity))?)
    }

    /// `self + other`, or `None` for different currencies or overflow.
    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        if self.currency_code != other.currency_code {
            return None;
        }
        self.with_total(self.total_nanos.checked_add(other.total_nanos)?)
    }

    /// Zero in the same currency.
    pub fn zero(&self) -> Money {
        Money {
            currency_code: self.currency_code.clone(),
            total_nanos: 0,
        }
    }

    fn with_total(&self, total_nanos: i128) -> Option<Money> {
        i64::try_from(total_nanos / NANOS_PER_UNIT).ok()?;
        Some(Money {
            currency_code: self.currency_code.clone(),
            total_nanos,
        })
    }
}

/// Checks an ISO 4217 currency code such as "EUR" (upper case, as listed).
pub fn currency(code: &str) -> Result<(), String> {
    match iso_currency::Currency::from_code(code) {
        Some(_) => Ok(()),
        None if code.is_empty() => Err("is required".to_owned()),
        None => Err(format!(
            "{} is not an ISO 4217 currency code such as \"EUR\"",
            quote(code)
        )),
    }
}

/// Parses a price: present, a real currency, positive and at most
/// [`MAX_PRICE_UNITS`]. Violations are recorded under `field`.
pub fn parse_price(field: &str, value: Option<&proto::Money>, violations: &mut Violations) -> Option<Money> {
    let money = parse_positive(field, value, violations)?;
    let units = money.units();
    if units > MAX_PRICE_UNITS || (units == MAX_PRICE_UNITS && money.nanos() > 0) {
        violations.add(format!("{field}.units"), format!("must be at most {MAX_PRICE_UNITS}"));
        return None;
    }
    Some(money)
}

/// Parses an amount that must be present, in a real currency, and
/// positive; each use checks its own upper bound. Violations are recorded
/// under `field`.
pub fn parse_positive(field: &str, value: Option<&proto::Money>, violations: &mut Violations) -> Option<Money> {
    let Some(value) = value else {
        violations.add(field, "is required");
        return None;
    };
    if let Err(problem) = currency(&value.currency_code) {
        violations.add(format!("{field}.currency_code"), problem);
        return None;
    }
    let money = violations.check(
        format!("{field}.nanos"),
        Money::from_parts(&value.currency_code, value.units, value.nanos),
    )?;
    if !money.is_positive() {
        violations.add(field, "must be positive");
        return None;
    }
    Some(money)
}

impl From<&Money> for proto::Money {
    fn from(money: &Money) -> Self {
        proto::Money {
            currency_code: money.currency_code.clone(),
            units: money.units(),
            nanos: money.nanos(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(units: i64, nanos: i32) -> Money {
        Money::from_parts("EUR", units, nanos).unwrap()
    }

    #[test]
    fn multiplication_and_addition_are_exact() {
        let line = eur(19, 990_000_000).checked_mul(3).unwrap();
        assert_eq!((line.units(), line.nanos()), (59, 970_000_000));
        let total = line.checked_add(&eur(0, 30_000_000)).unwrap();
        assert_eq!((total.units(), total.nanos()), (60, 0));
    }

    #[test]
    fn overflow_and_mixed_currencies_are_refused() {
        assert!(eur(i64::MAX, 0).checked_mul(2).is_none());
        assert!(
            eur(1, 0)
                .checked_add(&Money::from_parts("USD", 1, 0).unwrap())
                .is_none()
        );
    }

    #[test]
    fn wire_form_is_validated() {
        assert!(Money::from_parts("EUR", 1, -5).is_err());
        assert!(Money::from_parts("EUR", 0, 1_000_000_000).is_err());
        assert!(Money::from_parts("eur", 1, 0).is_err());
        assert!(Money::from_parts("XXY", 1, 0).is_err());
        let negative = Money::from_parts("EUR", -1, -750_000_000).unwrap();
        assert_eq!((negative.units(), negative.nanos()), (-1, -750_000_000));
    }

    #[test]
    fn prices_must_be_positive_and_bounded() {
        let check = |units, nanos| {
            let mut v = Violations::default();
            let price = proto::Money {
                currency_code: "EUR".into(),
                units,
                nanos,
            };
            parse_price("price", Some(&price), &mut v).is_some()
        };
        assert!(check(0, 1));
        assert!(!check(0, 0));
        assert!(!check(-1, 0));
        assert!(check(MAX_PRICE_UNITS, 0));
        assert!(!check(MAX_PRICE_UNITS, 1));
    }
}
