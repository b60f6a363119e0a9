//! The payment service: takes customers' money for orders (authorize,
//! capture, cancel, refund), with an append-only ledger in its own
//! database. A service of its own, in the same binary (see `--services`):
//! it never reads another service's database; the orders service calls it
//! over gRPC (`payments.v1.PaymentService`).

use crate::{
    config::{SecretUrl, Settings},
    db::sibling::{self, PlannedDatabase},
};

/// `--payments-database-url`, else `<orders database>_payments` on the
/// orders database's server, created if missing.
pub async fn database_url(
    settings: &Settings,
    orders_url: &str,
) -> Result<SecretUrl, crate::db::launcher::LocalPgError> {
    let configured = settings.payments.payments_database_url.as_ref();
    sibling::ensure(configured, orders_url, DATABASE_SUFFIX).await
}

/// Which database the payment service will use, before anything is
/// created: the one configured, or one named after the orders database.
pub fn planned_database(settings: &Settings, orders_url: &str) -> PlannedDatabase {
    let configured = settings.payments.payments_database_url.as_ref();
    sibling::planned(configured, orders_url, DATABASE_SUFFIX)
}

/// The default database's name: `<orders database>_payments`.
const DATABASE_SUFFIX: &str = "payments";
