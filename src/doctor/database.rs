//! The PostgreSQL side of `orders doctor`: the server and its version, the
//! clock against this machine's, and each service's database and schema,
//! found the way `orders serve` finds them but without creating or
//! starting anything.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::EmbeddedMigrations;

use super::report::Check;
use crate::{
    config::{SecretUrl, Settings},
    db::{
        launcher::{self, LocalPgError, LocalPostgres, database_name, with_database},
        migrations,
    },
    startup::LOCAL_DATABASE,
};

/// The oldest PostgreSQL the migrations run on (`gen_random_uuid()` is 13's).
const OLDEST_SERVER: i32 = 130_000;
/// Past this, times the server stamps and times the database stamps
/// disagree enough for a person reading them side by side to notice.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(1);

/// A service's database, as `orders serve` would pick it.
pub struct Planned {
    pub url: SecretUrl,
    /// `orders serve` creates it when it is missing (a database it names
    /// itself), rather than failing (one configured by URL).
    pub created_at_start: bool,
    /// The setting that names it, for the fix.
    pub setting: &'static str,
}

/// The `postgres` and `clock` checks, and the orders database to look at
/// next (`None` when no server answers yet).
pub async fn server(settings: &Settings) -> (Vec<Check>, Option<Planned>) {
    let Some(url) = &settings.database.database_url else {
        return local_server(settings).await;
    };
    let planned = Planned {
        url: url.clone(),
        created_at_start: false,
        setting: "DATABASE_URL (--database-url)",
    };
    let mut attempt = connect(url.expose()).await;
    // The server may well be there without the database: ask its own.
    if let (Err(error), Some(name)) = (&attempt, database_name(url.expose()))
        && is_missing_database(error, name)
    {
        attempt = connect(&with_database(url.expose(), "postgres")).await;
    }
    match attempt {
        Ok(mut conn) => (inspect_server(&mut conn, &url.redacted()).await, Some(planned)),
        Err(error) => {
            let fix = "start PostgreSQL there, or correct DATABASE_URL (--database-url)";
            let detail = format!("cannot connect to {}: {error}", url.redacted());
            let skipped = Check::skip("clock", "PostgreSQL is not reachable");
            (vec![Check::fail("postgres", detail, fix), skipped], None)
        }
    }
}

/// Without DATABASE_URL: a local server that runs now, or the private
/// cluster `orders serve` would start.
async fn local_server(settings: &Settings) -> (Vec<Check>, Option<Planned>) {
    let mut local = LocalPostgres::from_env();
    if let Some(dir) = &settings.database.data_dir {
        local.data_dir = dir.clone();
    }
    let waiting = || Check::skip("clock", "PostgreSQL starts with `orders serve`");
    let Some(server_url) = local.running_server_url().await else {
        let check = match local.server_binaries().await {
            Ok(bindir) => Check::ok(
                "postgres",
                format!(
                    "none runs here; `orders serve` starts a private cluster in {} ({})",
                    local.data_dir.display(),
                    bindir.display()
                ),
            ),
            Err(_) => Check::fail(
                "postgres",
                "none runs here, and no PostgreSQL is installed to start one",
                "set DATABASE_URL, or install PostgreSQL (e.g. `apt-get install postgresql`)",
            ),
        };
        return (vec![check, waiting()], None);
    };
    let planned = Planned {
        url: with_database(&server_url, LOCAL_DATABASE).into(),
        created_at_start: true,
        setting: "DATABASE_URL (--database-url)",
    };
    match connect(&server_url).await {
        Ok(mut conn) => (inspect_server(&mut conn, &server_url).await, Some(planned)),
        Err(error) => {
            let fix = "see the server's log";
            let skipped = Check::skip("clock", "PostgreSQL is not reachable");
            let detail = format!("{server_url} answered, then refused: {error}");
            (vec![Check::fail("postgres", detail, fix), skipped], None)
        }
    }
}

#[derive(QueryableByName)]
struct ServerFacts {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    version_num: i32,
    #[diesel(sql_type = diesel::sql_types::Double)]
    epoch: f64,
}

/// The `postgres` check (its version) and the `clock` check (the skew of
/// its clock against ours, taken at the midpoint of the round trip).
async fn inspect_server(conn: &mut AsyncPgConnection, shown_as: &str) -> Vec<Check> {
    let sent = SystemTime::now();
    let facts = diesel::sql_query(
        "SELECT current_setting('server_version') AS version, \
         current_setting('server_version_num')::int AS version_num, \
         extract(epoch FROM clock_timestamp())::float8 AS epoch",
    )
    .get_result::<ServerFacts>(conn)
    .await;
    let round_trip = sent.elapsed().unwrap_or_default();
    let facts = match facts {
        Ok(facts) => facts,
        Err(error) => {
            let detail = format!("{shown_as} cannot be asked its version: {error}");
            let skipped = Check::skip("clock", "PostgreSQL is not answering queries");
            return vec![Check::fail("postgres", detail, "see the server's log"), skipped];
        }
    };
    let version = format!("PostgreSQL {} at {shown_as}", facts.version);
    let postgres = match facts.version_num >= OLDEST_SERVER {
        true => Check::ok("postgres", version),
        false => Check::fail("postgres", version, "upgrade to PostgreSQL 13 or newer (tested on 15)"),
    };
    let ours = (sent + round_trip / 2).duration_since(UNIX_EPOCH).unwrap_or_default();
    vec![postgres, clock(facts.epoch - ours.as_secs_f64())]
}

/// The `clock` check for a database clock `skew` seconds ahead of ours.
pub fn clock(skew: f64) -> Check {
    let size = Duration::from_secs_f64(skew.abs());
    let millis = size.as_millis() as u64;
    let shown = humantime::format_duration(Duration::from_millis(millis));
    let side = if skew >= 0.0 { "ahead of" } else { "behind" };
    let detail = match millis {
        0 => "the database's clock agrees with this machine's (within 1ms)".to_owned(),
        _ => format!("the database's clock is {shown} {side} this machine's"),
    };
    match size <= MAX_CLOCK_SKEW {
        true => Check::ok("clock", detail),
        false => Check::fail(
            "clock",
            detail,
            "synchronise both machines' clocks (NTP, e.g. chrony); times stamped here and there disagree",
        ),
    }
}

/// The check of one service's database: there (or created at start), and
/// its schema against `migrations`.
pub async fn service_database(name: &'static str, planned: &Planned, migrations: &EmbeddedMigrations) -> Check {
    let shown = planned.url.redacted();
    let database = database_name(planned.url.expose()).unwrap_or("?").to_owned();
    let mut conn = match connect(planned.url.expose()).await {
        Ok(conn) => conn,
        Err(error) if is_missing_database(&error, &database) => {
            return match planned.created_at_start {
                true => Check::ok(name, format!("{shown} does not exist yet; `orders serve` creates it")),
                false => Check::fail(
                    name,
                    format!("{shown}: database {database:?} does not exist"),
                    format!("create it (`createdb {database}`), or correct {}", planned.setting),
                ),
            };
        }
        Err(error) => {
            let fix = format!("correct {}, or grant the role access", planned.setting);
            return Check::fail(name, format!("cannot connect to {shown}: {error}"), fix);
        }
    };
    match migrations::status(&mut conn, migrations).await {
        Ok(status) => schema_check(name, &shown, &status),
        Err(error) => Check::fail(
            name,
            format!("{shown}: cannot read its migrations: {error}"),
            "see the server's log",
        ),
    }
}

fn schema_check(name: &'static str, shown: &str, status: &migrations::SchemaStatus) -> Check {
    if !status.unknown.is_empty() {
        return Check::fail(
            name,
            format!(
                "{shown} has migrations this binary does not know ({}): a newer orders migrated it",
                status.unknown.join(", ")
            ),
            "run the newer orders, or restore the database from before its migrations",
        );
    }
    match status.pending.len() {
        0 => Check::ok(
            name,
            format!("{shown}: schema up to date ({})", plural(status.applied, "migration")),
        ),
        n => Check::ok(
            name,
            format!(
                "{shown}: {n} of {} migrations pending; `orders serve` (or `orders migrate`) applies them",
                status.applied + n
            ),
        ),
    }
}

/// A connection, or why not on one line (the launcher's probe: a 2 s
/// timeout, and a message without the URL's credentials).
async fn connect(url: &str) -> Result<AsyncPgConnection, String> {
    launcher::connect(url).await.map_err(|error| match error {
        LocalPgError::Connect { detail, .. } => detail,
        other => other.to_string(),
    })
}

fn is_missing_database(error: &str, name: &str) -> bool {
    error.contains(&format!("database \"{name}\" does not exist"))
}

/// `n` and `noun`, in the plural unless `n` is 1: "1 migration", "13 migrations".
fn plural(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::report::Status;

    #[test]
    fn a_clock_within_a_second_passes_and_one_beyond_fails_with_its_size_and_side() {
        let close = clock(0.0031);
        assert_eq!(close.status, Status::Ok);
        assert_eq!(close.detail, "the database's clock is 3ms ahead of this machine's");
        let far = clock(-90.5);
        assert_eq!(far.status, Status::Fail);
        assert_eq!(far.detail, "the database's clock is 1m 30s 500ms behind this machine's");
        assert!(far.fix.unwrap().starts_with("synchronise both machines' clocks"));
    }

    #[test]
    fn a_database_a_newer_binary_migrated_fails_and_pending_migrations_do_not() {
        let status = |pending: &[&str], unknown: &[&str]| migrations::SchemaStatus {
            applied: 3,
            pending: pending.iter().map(|v| v.to_string()).collect(),
            unknown: unknown.iter().map(|v| v.to_string()).collect(),
        };
        let newer = schema_check("orders-db", "db", &status(&[], &["20991231000001"]));
        assert_eq!(newer.status, Status::Fail);
        assert!(newer.detail.contains("(20991231000001)"), "{}", newer.detail);
        let behind = schema_check("orders-db", "db", &status(&["20261203000009"], &[]));
        assert_eq!(behind.status, Status::Ok);
        assert_eq!(
            behind.detail,
            "db: 1 of 4 migrations pending; `orders serve` (or `orders migrate`) applies them"
        );
    }
}
