//! `orders migrate`: the pending migrations of every service this process
//! runs, applied with a progress line per service on a terminal (a
//! migration on a large database can take minutes; the line names the one
//! running and how long it has taken so far).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::{StartupError, database_url};
use crate::{
    config::{ServiceName, Settings},
    db::migrations::{self, OnStep},
    notifications, payments,
};

/// Applies the pending migrations of every service this process runs
/// (`--services`) and returns their versions.
pub async fn migrate(settings: &Settings) -> Result<Vec<String>, StartupError> {
    let url = database_url(&settings.database).await?;
    let mut applied = Vec::new();
    if settings.runs(ServiceName::Orders) {
        let set = (migrations::MIGRATIONS, migrations::MIGRATION_LOCK);
        applied.extend(apply_showing("orders", &url, set).await?);
    }
    if settings.runs(ServiceName::Payments) {
        let url = payments::database_url(settings, &url).await?;
        let set = (payments::db::MIGRATIONS, payments::db::MIGRATION_LOCK);
        applied.extend(apply_showing("payments", url.expose(), set).await?);
    }
    if settings.runs(ServiceName::Notifications) {
        let url = notifications::database_url(settings, &url).await?;
        let set = (notifications::db::MIGRATIONS, notifications::db::MIGRATION_LOCK);
        applied.extend(apply_showing("notifications", url.expose(), set).await?);
    }
    Ok(applied)
}

async fn apply_showing(
    service: &'static str,
    url: &str,
    (set, lock): (diesel_migrations::EmbeddedMigrations, i64),
) -> Result<Vec<String>, StartupError> {
    let bar = progress(service);
    let applied = migrations::apply_reporting(url, set, lock, on_step(bar.clone())).await;
    match &applied {
        Ok(versions) if versions.is_empty() => bar.finish_and_clear(),
        Ok(versions) => {
            bar.set_position(versions.len() as u64);
            bar.finish_with_message(format!("{} applied", versions.len()));
        }
        Err(_) => bar.abandon_with_message("failed"),
    }
    applied.map_err(StartupError::Migrate)
}

/// A spinner on stderr, drawn only when stderr is a terminal (indicatif
/// hides it otherwise), ticking while a migration runs.
fn progress(service: &'static str) -> ProgressBar {
    let style = ProgressStyle::with_template("{spinner} migrating {prefix} [{pos}/{len}] {elapsed} {wide_msg}")
        .expect("a valid template");
    let bar = ProgressBar::new(0).with_style(style).with_prefix(service);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn on_step(bar: ProgressBar) -> OnStep {
    Box::new(move |step| {
        bar.set_length(step.pending as u64);
        bar.set_position(step.number as u64 - 1);
        bar.set_message(step.name.to_owned());
    })
}
