//! Secrets shared through the database by every instance of the service.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::server_secrets;

/// The name of the page-token signing key (created by the first migration).
pub const PAGE_TOKEN_KEY: &str = "page_token_key";

/// Reads the secret called `name`.
pub async fn load(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Vec<u8>> {
    server_secrets::table
        .find(name)
        .select(server_secrets::value)
        .first(conn)
        .await
}
