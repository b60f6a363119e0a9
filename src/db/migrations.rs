//! The migrations under `migrations/`, embedded into the binary and applied
//! at start-up (or by `orders migrate`); [`apply`] runs any service's set
//! the same way (the notifications service has its own).
//!
//! diesel's migration harness is synchronous. `AsyncConnectionWrapper`
//! adapts our async connection to it by blocking on the runtime, which would
//! panic (or stall a worker) on a runtime thread, so it runs in
//! `spawn_blocking`. A PostgreSQL advisory lock serialises instances that
//! start at the same time against one database.

use diesel::RunQueryDsl;
use diesel_async::{AsyncPgConnection, async_connection_wrapper::AsyncConnectionWrapper};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Every migration, compiled in (`build.rs` reruns when they change).
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// An arbitrary, fixed advisory-lock key for "migrating the orders schema".
const MIGRATION_LOCK: i64 = 0x6f72_6465_7273; // "orders"

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies pending migrations to the database at `url` and returns the
/// versions applied (empty when the schema was up to date).
pub async fn run(url: &str) -> Result<Vec<String>, BoxError> {
    apply(url, MIGRATIONS, MIGRATION_LOCK).await
}

/// Applies the pending ones of `migrations` to the database at `url`, under
/// the advisory lock `lock` (one per set), and returns their versions.
pub async fn apply(url: &str, migrations: EmbeddedMigrations, lock: i64) -> Result<Vec<String>, BoxError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || apply_blocking(&url, migrations, lock)).await?
}

fn apply_blocking(url: &str, migrations: EmbeddedMigrations, lock: i64) -> Result<Vec<String>, BoxError> {
    use diesel::Connection;
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url)?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock})")).execute(&mut conn)?;
    let applied = conn
        .run_pending_migrations(migrations)
        .map(|versions| versions.iter().map(ToString::to_string).collect());
    // The lock is released with the session anyway; unlocking explicitly
    // lets the next instance go on without waiting for the disconnect.
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock})")).execute(&mut conn)?;
    applied
}
