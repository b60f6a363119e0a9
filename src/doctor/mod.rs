//! `orders doctor`: checks every dependency of the services this process
//! would run (`--services`) and says, one line each, what is ready and what
//! to do about what is not, before `orders serve` finds out the hard way.
//!
//! It changes nothing: no database is created, no migration applied, no
//! PostgreSQL or NATS started. What `orders serve` would set up by itself
//! (the zero-configuration start) passes with a line saying so, and the
//! checks that need it are skipped, which does not fail the run.

mod database;
mod files;
mod network;
mod report;

pub use report::{Check, Report, Status};

use crate::{
    config::{ServiceName, Settings},
    db::sibling::PlannedDatabase,
    notifications, payments, startup,
};
use database::Planned;

/// Runs every check, in the order a start would meet them.
pub async fn examine(settings: &Settings) -> Report {
    let mut report = Report::default();
    report.add(files::keys(settings));
    report.add(files::tls(settings));
    report.add(files::exposure(settings));
    report.add(network::address(settings).await);
    report.add(network::metrics(settings).await);
    let (server_checks, orders) = database::server(settings).await;
    server_checks.into_iter().for_each(|check| report.add(check));
    if settings.runs(ServiceName::Orders) {
        report.add(orders_database(orders.as_ref()).await);
    }
    if settings.runs(ServiceName::Payments) {
        report.add(payments_database(settings, orders.as_ref()).await);
    }
    if settings.runs(ServiceName::Notifications) {
        report.add(notifications_database(settings, orders.as_ref()).await);
    }
    let data_dir = startup::data_dir(settings);
    report.add(network::nats(settings, &data_dir).await);
    if settings.runs(ServiceName::Notifications) {
        report.add(network::mail(settings, &data_dir).await);
    }
    report
}

async fn orders_database(planned: Option<&Planned>) -> Check {
    match planned {
        Some(planned) => database::service_database("orders-db", planned, &crate::db::migrations::MIGRATIONS).await,
        None => Check::skip("orders-db", "needs the PostgreSQL server above"),
    }
}

/// The notifications service's database (see [`sibling_database`]).
async fn notifications_database(settings: &Settings, orders: Option<&Planned>) -> Check {
    let plan = |orders_url: &str| notifications::planned_database(settings, orders_url);
    let configured = settings.notifications.notifications_database_url.as_ref();
    let setting = ("notifications-db", "--notifications-database-url", configured);
    sibling_database(setting, plan, &notifications::db::MIGRATIONS, orders).await
}

/// The payment service's database (see [`sibling_database`]).
async fn payments_database(settings: &Settings, orders: Option<&Planned>) -> Check {
    let plan = |orders_url: &str| payments::planned_database(settings, orders_url);
    let configured = settings.payments.payments_database_url.as_ref();
    let setting = ("payments-db", "--payments-database-url", configured);
    sibling_database(setting, plan, &payments::db::MIGRATIONS, orders).await
}

/// A service's own database, checked as `name`: its own URL (`setting`)
/// when one is `configured`, else the database `plan` names after the
/// orders database on the same server.
async fn sibling_database(
    (name, setting, configured): (&'static str, &'static str, Option<&crate::config::SecretUrl>),
    plan: impl FnOnce(&str) -> PlannedDatabase,
    migrations: &diesel_migrations::EmbeddedMigrations,
    orders: Option<&Planned>,
) -> Check {
    let planned = match (orders, configured) {
        (Some(orders), _) => plan(orders.url.expose()),
        (None, Some(url)) => PlannedDatabase::Configured(url.clone()),
        (None, None) => return Check::skip(name, "needs the PostgreSQL server above"),
    };
    let (url, created_at_start) = match planned {
        PlannedDatabase::Configured(url) => (url, false),
        PlannedDatabase::Beside { url, .. } => (url, true),
    };
    let planned = Planned {
        url,
        created_at_start,
        setting,
    };
    database::service_database(name, &planned, migrations).await
}
