//! Command-line flags of `orders-load`, and the few checks clap cannot do.

use std::time::Duration;

use clap::{Parser, ValueEnum, builder::PossibleValue};

use crate::workloads::{Kind, Mix, mix::DEFAULT_MIX};

/// Load generator for the orders gRPC service: sends one kind of request or a
/// weighted mix, closed loop (`--concurrency` callers) or open loop (`--rps`),
/// and prints latency percentiles and status codes.
#[derive(Debug, Parser)]
#[command(name = "orders-load", version)]
pub struct Args {
    /// Server address.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    pub addr: String,

    /// What to send; `mix` draws each request from --mix.
    #[arg(long, value_enum, default_value = "mix")]
    pub workload: Workload,

    /// Relative weights for `--workload mix`, as KIND=WEIGHT,...
    #[arg(long, default_value = DEFAULT_MIX)]
    pub mix: Mix,

    /// Callers in flight at once (closed loop), or at most in flight (open loop).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,

    /// HTTP/2 connections; callers are spread over them round-robin.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub connections: u32,

    /// Open loop: start requests at this fixed rate per second instead of as
    /// fast as the callers can. Latency counts from each intended start.
    #[arg(long, value_parser = positive_rate)]
    pub rps: Option<f64>,

    /// Load sent before measuring starts (not counted).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub warmup: Duration,

    /// How long to measure after the warm-up.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    pub duration: Duration,

    /// Measure exactly this many requests instead of a duration.
    #[arg(long, conflicts_with = "duration", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Deadline of each call (sent as grpc-timeout and enforced locally).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub timeout: Duration,

    /// Distinct customers (`cust-000000`, ...) that orders, histories and
    /// searches use.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub customers: u32,

    /// Products to order from (`load-000000`, ...); missing ones are created.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(5..=1_000_000))]
    pub products: u32,

    /// Lines per order; without it, 1 to 5 at random.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub lines: Option<u8>,

    /// Orders are paid by card with this payment method (e.g.
    /// `pm_card_visa`), through the payment saga; without it, on delivery.
    #[arg(long, default_value = "")]
    pub payment_method: String,

    /// History pages followed per customer (each page is one request).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub history_depth: u32,

    /// A bearer token sent with every call but health (it needs a role for
    /// everything the run sends: catalog-admin and service for setup,
    /// service for orders and histories, warehouse or service for get-order).
    #[arg(
        long,
        env = "ORDERS_LOAD_TOKEN",
        hide_env_values = true,
        conflicts_with = "auth_hs256_secret_file"
    )]
    pub token: Option<String>,

    /// Mint tokens with the server's HS256 secret instead: one per customer
    /// (role customer), one per warehouse worker for get-order, a
    /// catalog-admin and service token for setup. Needs --auth-issuer and
    /// --auth-audience.
    #[arg(long, env = "ORDERS_AUTH_HS256_SECRET_FILE")]
    pub auth_hs256_secret_file: Option<std::path::PathBuf>,

    /// The `iss` of minted tokens (the server's --auth-issuer).
    #[arg(long, env = "ORDERS_AUTH_ISSUER")]
    pub auth_issuer: Option<String>,

    /// The `aud` of minted tokens (the server's --auth-audience).
    #[arg(long, env = "ORDERS_AUTH_AUDIENCE")]
    pub auth_audience: Option<String>,

    /// Print one JSON object instead of the text summary.
    #[arg(long)]
    pub json: bool,

    /// Exit with status 1 if any measured call did not end OK.
    #[arg(long)]
    pub fail_on_error: bool,
}

/// `--workload`: one kind of request, or the weighted mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    One(Kind),
    Mix,
}

impl ValueEnum for Workload {
    fn value_variants<'a>() -> &'a [Self] {
        const VARIANTS: [Workload; Kind::COUNT + 1] = [
            Workload::One(Kind::CreateOrder),
            Workload::One(Kind::GetOrderHistory),
            Workload::One(Kind::GetOrder),
            Workload::One(Kind::Health),
            Workload::One(Kind::SearchWord),
            Workload::One(Kind::SearchWords),
            Workload::One(Kind::SearchPrefix),
            Workload::One(Kind::SearchMisspelt),
            Workload::Mix,
        ];
        &VARIANTS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            Workload::One(kind) => kind.name(),
            Workload::Mix => "mix",
        }))
    }
}

/// When measuring stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    After(Duration),
    Count(u64),
}

impl Args {
    /// The mix actually sent: --mix for `mix`, else only the chosen kind.
    pub fn effective_mix(&self) -> Mix {
        match self.workload {
            Workload::One(kind) => Mix::only(kind),
            Workload::Mix => self.mix.clone(),
        }
    }

    /// --count wins over the (defaulted) --duration.
    pub fn stop(&self) -> Stop {
        self.count.map_or(Stop::After(self.duration), Stop::Count)
    }
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!("`{text}` is not a positive number of requests per second")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(flags: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("orders-load").chain(flags.iter().copied()))
    }

    #[test]
    fn the_defaults_are_a_30s_closed_loop_mix() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.addr, "http://127.0.0.1:50051");
        assert_eq!(args.workload, Workload::Mix);
        assert_eq!(args.effective_mix().to_string(), DEFAULT_MIX);
        assert_eq!((args.concurrency, args.connections, args.rps), (16, 4, None));
        assert_eq!(args.stop(), Stop::After(Duration::from_secs(30)));
        assert_eq!(args.warmup, Duration::from_secs(5));
        assert_eq!(
            (args.customers, args.products, args.lines, args.history_depth),
            (1000, 1000, None, 3)
        );
        assert!(!args.json && !args.fail_on_error);
    }

    #[test]
    fn every_flag_is_read() {
        let args = parse(&[
            "--addr=http://[::1]:1",
            "--workload=get-order-history",
            "--concurrency=3",
            "--connections=2",
            "--rps=12.5",
            "--warmup=0s",
            "--count=7",
            "--timeout=250ms",
            "--customers=9",
            "--products=50",
            "--lines=2",
            "--history-depth=4",
            "--json",
            "--fail-on-error",
        ])
        .unwrap();
        assert_eq!(args.effective_mix(), Mix::only(Kind::GetOrderHistory));
        assert_eq!((args.concurrency, args.connections, args.rps), (3, 2, Some(12.5)));
        assert_eq!(
            (args.warmup, args.timeout),
            (Duration::ZERO, Duration::from_millis(250))
        );
        assert_eq!(args.stop(), Stop::Count(7));
        assert_eq!(
            (args.customers, args.products, args.lines, args.history_depth),
            (9, 50, Some(2), 4)
        );
        assert!(args.json && args.fail_on_error);
    }

    #[test]
    fn a_single_workload_ignores_the_mix_and_mix_uses_it() {
        let one = parse(&["--workload", "health", "--mix", "get-order=1"]).unwrap();
        assert_eq!(one.effective_mix(), Mix::only(Kind::Health));
        let mix = parse(&["--mix", "get-order=1,health=3"]).unwrap();
        assert_eq!(mix.effective_mix().to_string(), "get-order=1,health=3");
        for kind in Kind::SEARCHES {
            let one = parse(&["--workload", kind.name()]).unwrap();
            assert_eq!(one.effective_mix(), Mix::only(kind));
        }
    }

    #[test]
    fn bad_flags_are_refused() {
        for flags in [
            &["--workload", "ship-order"][..],
            &["--rps", "0"],
            &["--rps", "NaN"],
            &["--concurrency", "0"],
            &["--lines", "101"],
            &["--count", "0"],
            &["--count", "5", "--duration", "10s"],
            &["--mix", "health=x"],
            &["--warmup", "5"],
        ] {
            assert!(parse(flags).is_err(), "{flags:?} was accepted");
        }
    }

    #[test]
    fn the_cli_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
