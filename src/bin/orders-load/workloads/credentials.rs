//! Bearer tokens for a server that requires them, attached per request.
//!
//! With `--auth-hs256-secret-file` (and the server's issuer and audience),
//! every simulated customer gets a token of its own (role `customer`, its
//! id as subject), as a shop's front end would send them; get-order reads
//! as the warehouse; setup acts as a catalog admin and internal service.
//! Per-customer tokens also spread the load over many callers, as the
//! server's per-caller rate limit expects. With `--token`, that one token
//! goes with every call instead. Health calls never carry a token.

use std::time::Duration;

use orders::auth::mint::Minter;
use tonic::{
    Request,
    metadata::{Ascii, MetadataValue},
};

use super::setup::SetupError;
use crate::args::Args;

/// Long enough for any run.
const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// An `authorization` metadata value.
pub type Bearer = MetadataValue<Ascii>;

/// The tokens of a run (all empty: the server needs none).
#[derive(Debug, Default)]
pub struct Credentials {
    /// One per customer, in the order of `Fixtures::customers`.
    customers: Vec<Bearer>,
    /// For get-order (any order) and for setup.
    warehouse: Option<Bearer>,
    setup: Option<Bearer>,
    /// `--token`: for everything.
    every_call: Option<Bearer>,
}

impl Credentials {
    /// The tokens `args` ask for, for `customers`.
    pub fn from_args(args: &Args, customers: &[String]) -> Result<Credentials, SetupError> {
        if let Some(token) = &args.token {
            return Ok(Credentials {
                every_call: Some(bearer(token)?),
                ..Credentials::default()
            });
        }
        let Some(secret_file) = &args.auth_hs256_secret_file else {
            return Ok(Credentials::default());
        };
        let (Some(issuer), Some(audience)) = (&args.auth_issuer, &args.auth_audience) else {
            return Err("--auth-hs256-secret-file needs --auth-issuer and --auth-audience".into());
        };
        let minter = Minter::new(secret_file, issuer, audience)?;
        let mint = |subject: &str, roles: &[&str]| -> Result<Bearer, SetupError> {
            let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
            bearer(&minter.mint(subject, &roles, TOKEN_TTL)?)
        };
        Ok(Credentials {
            customers: customers
                .iter()
                .map(|c| mint(c, &["customer"]))
                .collect::<Result<_, _>>()?,
            warehouse: Some(mint("orders-load-warehouse", &["warehouse"])?),
            setup: Some(mint("orders-load-setup", &["catalog-admin", "service"])?),
            every_call: None,
        })
    }

    /// The token of customer number `i`.
    pub fn customer(&self, i: usize) -> Option<&Bearer> {
        self.every_call.as_ref().or(self.customers.get(i))
    }

    /// The token for reading any order.
    pub fn warehouse(&self) -> Option<&Bearer> {
        self.every_call.as_ref().or(self.warehouse.as_ref())
    }

    /// The token for creating products and reading customers' histories.
    pub fn setup(&self) -> Option<&Bearer> {
        self.every_call.as_ref().or(self.setup.as_ref())
    }
}

/// `request` with `token` (if any) as its `authorization`.
pub fn with_token<T>(mut request: Request<T>, token: Option<&Bearer>) -> Request<T> {
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", token.clone());
    }
    request
}

fn bearer(token: &str) -> Result<Bearer, SetupError> {
    Ok(format!("Bearer {token}").parse()?)
}
