//! A service's own database beside the orders database: the notifications
//! and payment services each have one, configured by URL or, by default,
//! named after the orders database (`orders_notifications`,
//! `orders_payments`) on its server and created at start when missing.

use crate::config::SecretUrl;

use super::launcher::{self, LocalPgError};

/// Which database a service will use, before anything is created.
pub enum PlannedDatabase {
    /// Its `--…-database-url`: used as it is, never created.
    Configured(SecretUrl),
    /// `name`, at `url` on the orders database's server, created at start
    /// if missing.
    Beside { name: String, url: SecretUrl },
}

/// The database `configured`, else `<orders database>_<suffix>` beside
/// `orders_url`.
pub fn planned(configured: Option<&SecretUrl>, orders_url: &str, suffix: &str) -> PlannedDatabase {
    if let Some(url) = configured {
        return PlannedDatabase::Configured(url.clone());
    }
    let orders_name = launcher::database_name(orders_url).unwrap_or("orders");
    let name = format!("{orders_name}_{suffix}");
    let url = launcher::with_database(orders_url, &name).into();
    PlannedDatabase::Beside { name, url }
}

/// The planned database's URL, after creating it if it is one beside the
/// orders database that does not exist yet.
pub async fn ensure(configured: Option<&SecretUrl>, orders_url: &str, suffix: &str) -> Result<SecretUrl, LocalPgError> {
    match planned(configured, orders_url, suffix) {
        PlannedDatabase::Configured(url) => Ok(url),
        PlannedDatabase::Beside { name, .. } => launcher::ensure_database(orders_url, &name).await.map(SecretUrl::from),
    }
}
