//! Connection URLs that can carry a password: PostgreSQL's, NATS's, SMTP's.
//!
//! The settings are printed with `Debug` (at start-up, in test failures), so the URL's `Debug`
//! and `Display` show it with the password replaced by `***`, whether it sits in the URL's user
//! part (`postgres://user:secret@host/db`), in a `password=` query parameter, or in a libpq
//! key/value string (`host=db password=secret`). Only [`SecretUrl::expose`] gives the real text,
//! and only the code that connects calls it.

use std::{convert::Infallible, fmt, str::FromStr};

const HIDDEN: &str = "***";

/// A URL (or a libpq key/value connection string), redacted when printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// The connection string as given, password included: for connecting, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The connection string with every password replaced by `***`.
    pub fn redacted(&self) -> String {
        let text = self.0.as_str();
        match text.split_once("://") {
            Some((scheme, rest)) => format!("{scheme}://{}", redact_url_rest(rest)),
            None => redact_key_values(text, ' '),
        }
    }
}

/// `user:password@host/db?params` → `user:***@host/db?params` (with `password=` hidden too).
fn redact_url_rest(rest: &str) -> String {
    let (address, params) = rest.split_once('?').map_or((rest, None), |(a, p)| (a, Some(p)));
    // The user part ends at the last '@' before the path; a password may itself hold '@' or '/'.
    let address = match address.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:{HIDDEN}@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => address.to_owned(),
    };
    match params {
        Some(params) => format!("{address}?{}", redact_key_values(params, '&')),
        None => address,
    }
}

/// Hides the value of every `password=` entry of a list separated by `separator`.
fn redact_key_values(text: &str, separator: char) -> String {
    let entries = text.split(separator).map(|entry| match entry.split_once('=') {
        Some((key, _)) if key.trim().eq_ignore_ascii_case("password") => format!("{key}={HIDDEN}"),
        _ => entry.to_owned(),
    });
    entries.collect::<Vec<_>>().join(&separator.to_string())
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecretUrl").field(&self.redacted()).finish()
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for SecretUrl {
    type Err = Infallible;

    fn from_str(text: &str) -> Result<Self, Infallible> {
        Ok(Self(text.to_owned()))
    }
}

impl From<String> for SecretUrl {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for SecretUrl {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::SecretUrl;

    fn printed(url: &str) -> String {
        SecretUrl::from(url).to_string()
    }

    #[test]
    fn the_password_in_the_user_part_is_hidden() {
        let url = "postgres://orders:s3cr@t/pw@db.internal:5432/orders";
        assert_eq!(printed(url), "postgres://orders:***@db.internal:5432/orders");
    }

    #[test]
    fn a_password_parameter_is_hidden_and_other_parameters_kept() {
        let url = "postgresql://orders@db/orders?sslmode=require&password=hunter2";
        let expected = "postgresql://orders@db/orders?sslmode=require&password=***";
        assert_eq!(printed(url), expected);
    }

    #[test]
    fn a_key_value_string_hides_its_password() {
        let dsn = "host=db user=orders password=hunter2 dbname=orders";
        assert_eq!(printed(dsn), "host=db user=orders password=*** dbname=orders");
    }

    #[test]
    fn a_url_without_a_password_prints_as_it_is() {
        let url = "postgres://postgres@127.0.0.1:5432/orders";
        assert_eq!(printed(url), url);
    }

    #[test]
    fn debug_redacts_and_expose_gives_the_real_text() {
        let url = SecretUrl::from("postgres://orders:hunter2@db/orders");
        assert_eq!(format!("{url:?}"), r#"SecretUrl("postgres://orders:***@db/orders")"#);
        assert_eq!(url.expose(), "postgres://orders:hunter2@db/orders");
    }
}
