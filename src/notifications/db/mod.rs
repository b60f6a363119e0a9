//! The notifications service's own database: its schema (generated), its
//! migrations, the inbox of handled events and the emails they caused.

pub mod emails;
pub mod inbox;
pub mod schema;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The notifications schema, compiled in (`build.rs` reruns when it changes).
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("src/notifications/migrations");

/// The advisory lock of "migrating the notifications schema".
pub const MIGRATION_LOCK: i64 = 0x6e6f_7469_6679; // "notify"

/// Applies pending notifications migrations to the database at `url`.
pub async fn migrate(url: &str) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    crate::db::migrations::apply(url, MIGRATIONS, MIGRATION_LOCK).await
}
