//! Bearer tokens for a server that requires them, attached per request.
//!
//! With `--auth-hs256-secret-file` (and the server's issuer and audience),
//! every simulated customer gets a token of its own (role `customer`, its
//! id as subject), as a shop's front end would send them; get-order reads
//! as one of [`WAREHOUSE_WORKERS`] warehouse workers; setup acts as a
//! catalog admin and internal service. Many callers, each with its own
//! token, is also what the server's per-caller rate limit expects: one
//! token for thousands of calls per second would (rightly) be refused.
//! With `--token`, that one token goes with every call instead. Health
//! calls never carry a token.

use std::time::Duration;

use orders::auth::mint::Minter;
use tonic::{
    Request,
    metadata::{Ascii, MetadataValue},
};

use super::setup::SetupError;
use crate::args::Args;

/// Warehouse workers reading orders, each with a token of its own.
pub const WAREHOUSE_WORKERS: usize = 64;

/// Long enough for any run.
const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// An `authorization` metadata value.
pub type Bearer = MetadataValue<Ascii>;

/// The tokens of a run (all empty: the server needs none).
#[derive(Debug, Default)]
pub struct Credentials {
    /// One per customer, in the order of `Fixtures::customers`.
    customers: Vec<Bearer>,
    /// For get-order (any order), one per worker.
    warehouse: Vec<Bearer>,
    /// For setup.
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
            warehouse: (0..WAREHOUSE_WORKERS)
                .map(|i| mint(&format!("orders-load-warehouse-{i}"), &["warehouse"]))
                .collect::<Result<_, _>>()?,
            setup: Some(mint("orders-load-setup", &["catalog-admin", "service"])?),
            every_call: None,
        })
    }

    /// The token of customer number `i`.
    pub fn customer(&self, i: usize) -> Option<&Bearer> {
        self.every_call.as_ref().or(self.customers.get(i))
    }

    /// The token of warehouse worker number `worker` (modulo their number),
    /// for reading any order.
    pub fn warehouse(&self, worker: usize) -> Option<&Bearer> {
        let token = self.warehouse.get(worker % self.warehouse.len().max(1));
        self.every_call.as_ref().or(token)
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
