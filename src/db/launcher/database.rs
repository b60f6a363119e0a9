//! Talking to a server: probing a URL, creating a database, and the URLs that name them.

use std::time::Duration;

use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tracing::{debug, info};

use super::{LocalPgError, one_line};

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Creates database `name` on the server at `server_url` if it does not exist yet (safe if two processes
/// race to create it) and returns the URL of that database.
pub async fn ensure_database(server_url: &str, name: &str) -> Result<String, LocalPgError> {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
    if !(1..=63).contains(&name.len()) || !name.bytes().all(allowed) {
        return Err(LocalPgError::InvalidName(name.to_string()));
    }
    let mut conn = connect(server_url).await?;
    let query_err = |e: diesel::result::Error| LocalPgError::Query {
        what: format!("creating database {name}"),
        detail: one_line(&e.to_string()),
    };
    let exists = "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS present";
    let found: Exists = diesel::sql_query(exists)
        .bind::<Text, _>(name)
        .get_result(&mut conn)
        .await
        .map_err(query_err)?;
    if !found.present {
        // Safe to splice: `name` was validated to [a-z0-9_] above.
        let create = diesel::sql_query(format!("CREATE DATABASE \"{name}\""));
        match create.execute(&mut conn).await {
            Ok(_) => info!(database = name, "created database"),
            Err(e) if is_duplicate(&e) => debug!(database = name, "created concurrently elsewhere"),
            Err(e) => return Err(query_err(e)),
        }
    }
    Ok(with_database(server_url, name))
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    present: bool,
}

/// A concurrent CREATE DATABASE loses either the name check ("already exists") or the unique index.
fn is_duplicate(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(e, Error::DatabaseError(kind, info)
        if matches!(kind, DatabaseErrorKind::UniqueViolation) || info.message().contains("already exists"))
}

/// A connection to `url` within the probe's timeout; the error names only
/// the host, port and database, never the credentials.
pub async fn connect(url: &str) -> Result<AsyncPgConnection, LocalPgError> {
    let attempt = tokio::time::timeout(PROBE_TIMEOUT, AsyncPgConnection::establish(url));
    let detail = match attempt.await {
        Ok(Ok(conn)) => return Ok(conn),
        Ok(Err(e)) => one_line(&e.to_string()),
        Err(_) => format!("no answer within {PROBE_TIMEOUT:?}"),
    };
    // Show host/port/db only: whatever precedes '@' may hold a password.
    let target = url.rsplit_once('@').map_or(url, |(_, host)| host).into();
    Err(LocalPgError::Connect { target, detail })
}

pub(super) async fn probe(url: &str) -> Result<(), LocalPgError> {
    connect(url).await.map(drop)
}

/// The URL of the maintenance database `postgres` on a TCP host or a socket directory.
pub(super) fn make_url(user: &str, host: &str, port: u16) -> String {
    if host.starts_with('/') {
        // A socket dir (PGHOST=/var/run/postgresql) cannot be the URL's host part.
        format!("postgres://{user}@/postgres?host={host}&port={port}")
    } else {
        format!("postgres://{user}@{host}:{port}/postgres")
    }
}

/// Replaces the database of `url`, keeping credentials, host and `?params`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, params, path) = split_url(url);
    let sep = if params.is_empty() { "" } else { "?" };
    format!("{}/{name}{sep}{params}", &base[..path])
}

/// The database `url` names (the path after the host), if any.
pub fn database_name(url: &str) -> Option<&str> {
    let (base, _, path) = split_url(url);
    base.get(path + 1..).filter(|name| !name.is_empty())
}

/// `(url without ?params, params, where the path starts in the first)`.
fn split_url(url: &str) -> (&str, &str, usize) {
    let (base, params) = url.split_once('?').map_or((url, ""), |(b, p)| (b, p));
    // The path starts after the credentials (which may contain '/') and the scheme's "//".
    let scheme_end = base.find("://").map(|i| i + 2);
    let host_start = base.rfind('@').or(scheme_end).map_or(0, |i| i + 1);
    let path = base[host_start..].find('/').map_or(base.len(), |i| host_start + i);
    (base, params, path)
}
