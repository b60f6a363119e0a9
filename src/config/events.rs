//! Settings for the event backbone: where NATS is, the subjects this
//! deployment publishes under, and whether this process relays the outbox.

use std::{fmt, str::FromStr, time::Duration};

use clap::{ArgAction, Args};

use super::SecretUrl;

#[derive(Debug, Clone, Args)]
pub struct EventSettings {
    /// NATS server URL (with JetStream), e.g. nats://user:password@host:4222.
    /// Without it, a NATS server on 127.0.0.1:4222 is used when one answers;
    /// else a private `nats-server -js` is started with its store in --data-dir.
    #[arg(long, env = "ORDERS_NATS_URL", global = true, hide_env_values = true)]
    pub nats_url: Option<SecretUrl>,

    /// The first subject token(s) of every event (`<prefix>.order.placed`),
    /// so several deployments can share one NATS server. The stream is named
    /// after it: `orders` → stream `ORDERS`.
    #[arg(long, env = "ORDERS_NATS_SUBJECT_PREFIX", default_value = "orders", global = true)]
    pub nats_subject_prefix: SubjectPrefix,

    /// Whether this process publishes the outbox to NATS (`false` for a
    /// process that should only serve calls). Several processes may relay:
    /// one at a time does, the others stand by.
    #[arg(long, env = "ORDERS_OUTBOX_RELAY", default_value_t = true, action = ArgAction::Set, global = true)]
    pub outbox_relay: bool,

    /// The shortest time between two rounds of the relay (each a query for
    /// what is pending, a batch of publishes and a move of its watermark),
    /// and between two `NOTIFY`s that wake it. Under load, a longer one means
    /// fewer, larger batches: less work per event for the database, a little
    /// more lag (about half of it on average). `0s` relays after each commit.
    #[arg(long, env = "ORDERS_OUTBOX_RELAY_INTERVAL", value_parser = humantime::parse_duration, default_value = "20ms", global = true)]
    pub outbox_relay_interval: Duration,
}

/// Subject tokens separated by dots, each of letters, digits, `-` and `_`:
/// no wildcards, no spaces, no empty token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectPrefix(String);

impl SubjectPrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `<prefix>.<suffix>`, the subject of one kind of event.
    pub fn subject(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.0)
    }

    /// The JetStream stream that holds `<prefix>.>`: the prefix upper-cased,
    /// with `.` and `-` as `_` (stream names may not contain dots).
    pub fn stream_name(&self) -> String {
        let name = self.0.to_ascii_uppercase();
        name.replace(['.', '-'], "_")
    }
}

impl FromStr for SubjectPrefix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let token_ok =
            |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if text.len() <= 64 && text.split('.').all(token_ok) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "{text:?} is not a subject prefix: use up to 64 characters, tokens of letters, digits, '-' and '_' separated by '.'"
            ))
        }
    }
}

impl fmt::Display for SubjectPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::SubjectPrefix;

    #[test]
    fn a_prefix_names_its_subjects_and_stream() {
        let prefix: SubjectPrefix = "shop-eu.orders".parse().unwrap();
        assert_eq!(prefix.subject("order.placed"), "shop-eu.orders.order.placed");
        assert_eq!(prefix.stream_name(), "SHOP_EU_ORDERS");
    }

    #[test]
    fn wildcards_spaces_and_empty_tokens_are_refused() {
        for bad in [
            "",
            "orders.>",
            "orders.*",
            "two words",
            "orders..x",
            ".orders",
            "orders.",
        ] {
            assert!(bad.parse::<SubjectPrefix>().is_err(), "{bad:?}");
        }
    }
}
