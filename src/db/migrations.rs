//! The migrations under `migrations/`, embedded into the binary and applied
//! at start-up (or by `orders migrate`); [`apply`] runs any service's set
//! the same way (the notifications service has its own).
//!
//! diesel's migration harness is synchronous. `AsyncConnectionWrapper`
//! adapts our async connection to it by blocking on the runtime, which would
//! panic (or stall a worker) on a runtime thread, so it runs in
//! `spawn_blocking`. A PostgreSQL advisory lock serialises instances that
//! start at the same time against one database.

use diesel_async::{AsyncPgConnection, async_connection_wrapper::AsyncConnectionWrapper};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Every migration, compiled in (`build.rs` reruns when they change).
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// An arbitrary, fixed advisory-lock key for "migrating the orders schema".
pub const MIGRATION_LOCK: i64 = 0x6f72_6465_7273; // "orders"

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies pending migrations to the database at `url` and returns the
/// versions applied (empty when the schema was up to date).
pub async fn run(url: &str) -> Result<Vec<String>, BoxError> {
    apply(url, MIGRATIONS, MIGRATION_LOCK).await
}

/// Applies the pending ones of `migrations` to the database at `url`, under
/// the advisory lock `lock` (one per set), and returns their versions.
pub async fn apply(url: &str, migrations: EmbeddedMigrations, lock: i64) -> Result<Vec<String>, BoxError> {
    apply_reporting(url, migrations, lock, Box::new(|_| {})).await
}

/// A migration about to run, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// Its position among the pending ones, from 1.
    pub number: usize,
    /// How many are pending.
    pub pending: usize,
    /// Its name, e.g. `2026-11-23-000001_create_schema`.
    pub name: &'a str,
}

/// Called before each migration runs (one may take long on a big table).
pub type OnStep = Box<dyn FnMut(Step<'_>) + Send>;

/// [`apply`], telling `on_step` about each migration as it starts.
pub async fn apply_reporting(
    url: &str,
    migrations: EmbeddedMigrations,
    lock: i64,
    on_step: OnStep,
) -> Result<Vec<String>, BoxError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || apply_blocking(&url, migrations, lock, on_step)).await?
}

fn apply_blocking(
    url: &str,
    migrations: EmbeddedMigrations,
    lock: i64,
    mut on_step: OnStep,
) -> Result<Vec<String>, BoxError> {
    use diesel::{Connection, RunQueryDsl};
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url)?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock})")).execute(&mut conn)?;
    // One at a time (as `run_pending_migrations` does inside), each in its
    // own transaction, so that a display can say which one is running.
    let applied = conn.pending_migrations(migrations).and_then(|pending| {
        let mut applied = Vec::with_capacity(pending.len());
        for (index, migration) in pending.iter().enumerate() {
            let name = migration.name().to_string();
            on_step(Step {
                number: index + 1,
                pending: pending.len(),
                name: &name,
            });
            applied.push(conn.run_migration(&**migration)?.to_string());
        }
        Ok(applied)
    });
    // The lock is released with the session anyway; unlocking explicitly
    // lets the next instance go on without waiting for the disconnect.
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock})")).execute(&mut conn)?;
    applied
}

/// A database's schema against a set of migrations, read without changing
/// anything (diesel's harness would create its table first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// How many of the set are applied.
    pub applied: usize,
    /// Versions of the set not applied yet, oldest first.
    pub pending: Vec<String>,
    /// Versions applied that the set does not have: a newer binary migrated
    /// this database.
    pub unknown: Vec<String>,
}

#[derive(diesel::QueryableByName)]
struct Present {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    present: bool,
}

#[derive(diesel::QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// Reads what of `migrations` the database behind `conn` has applied.
pub async fn status(
    conn: &mut diesel_async::AsyncPgConnection,
    migrations: &EmbeddedMigrations,
) -> Result<SchemaStatus, BoxError> {
    use diesel::migration::MigrationSource;
    use diesel_async::RunQueryDsl;
    let known: Vec<String> = MigrationSource::<diesel::pg::Pg>::migrations(migrations)?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    // A database no migration ever touched has no table to read.
    let table: Present = diesel::sql_query("SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS present")
        .get_result::<Present>(conn)
        .await?;
    let applied: Vec<String> = match table.present {
        false => Vec::new(),
        true => diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load::<AppliedVersion>(conn)
            .await?
            .into_iter()
            .map(|row| row.version)
            .collect(),
    };
    Ok(SchemaStatus {
        applied: known.iter().filter(|v| applied.contains(v)).count(),
        pending: known.iter().filter(|v| !applied.contains(v)).cloned().collect(),
        unknown: applied.into_iter().filter(|v| !known.contains(v)).collect(),
    })
}
