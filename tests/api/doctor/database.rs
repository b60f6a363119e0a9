//! The doctor's PostgreSQL checks: a server that does not answer, a
//! configured database that does not exist, pending and unknown
//! migrations, and a server `orders serve` would start.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use super::{Healthy, doctor, fail, ok, path};
use crate::{
    local_machine::{free_port, fresh_dir},
    test_database::TestDatabase,
};

#[tokio::test]
async fn a_database_server_that_does_not_answer_fails_and_what_needs_it_is_skipped() {
    let setup = Healthy::start().await;
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/orders", free_port());
    let run = doctor(&[("DATABASE_URL", &nowhere)], &setup.args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let fix = "start PostgreSQL there, or correct DATABASE_URL (--database-url)";
    run.failed("postgres", &format!("cannot connect to {nowhere}: "), fix);
    assert_eq!(run.line("clock"), "skip  clock             PostgreSQL is not reachable");
    assert_eq!(
        run.line("orders-db"),
        "skip  orders-db         needs the PostgreSQL server above"
    );
    // Their own URLs, on a server that answers, are still checked.
    assert!(run.line("payments-db").starts_with("ok    "), "{}", run.shown);
    assert!(run.line("notifications-db").starts_with("ok    "), "{}", run.shown);
    assert_eq!(run.lines.last().unwrap(), "1 of 12 checks failed");
}

#[tokio::test]
async fn a_configured_database_that_does_not_exist_fails_with_how_to_create_it() {
    let setup = Healthy::start().await;
    let name = format!("orders_doctor_missing_{}", std::process::id());
    let missing = orders::db::launcher::with_database(&setup.orders.url, &name);
    let run = doctor(&[("DATABASE_URL", &missing)], &setup.args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    assert!(run.line("postgres").starts_with("ok    "), "{}", run.shown);
    let detail = format!("{missing}: database {name:?} does not exist");
    let fix = format!("create it (`createdb {name}`), or correct DATABASE_URL (--database-url)");
    assert_eq!(run.line("orders-db"), fail("orders-db", &detail, &fix));
}

#[tokio::test]
async fn pending_migrations_pass_and_a_schema_migrated_by_a_newer_binary_fails() {
    let setup = Healthy::start().await;
    let empty = TestDatabase::create_empty().await;
    let run = doctor(&[("DATABASE_URL", &empty.url)], &setup.args(&[])).await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
    let pending = format!(
        "{}: 13 of 13 migrations pending; `orders serve` (or `orders migrate`) applies them",
        empty.url
    );
    assert_eq!(run.line("orders-db"), ok("orders-db", &pending));

    let mut conn = AsyncPgConnection::establish(&setup.orders.url).await.unwrap();
    conn.batch_execute("INSERT INTO __diesel_schema_migrations (version) VALUES ('20991231000001')")
        .await
        .unwrap();
    let run = setup.doctor(&[]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let detail = format!(
        "{} has migrations this binary does not know (20991231000001): a newer orders migrated it",
        setup.orders.url
    );
    let fix = "run the newer orders, or restore the database from before its migrations";
    assert_eq!(run.line("orders-db"), fail("orders-db", &detail, fix));
}

#[tokio::test]
async fn without_a_database_url_a_postgres_that_serve_would_start_passes_and_its_checks_wait() {
    let setup = Healthy::start().await;
    let data_dir = fresh_dir("doctor-pgdata").join("pgdata");
    let dead = free_port().to_string();
    // No server on PGPORT and no private cluster in the data directory.
    let env = [
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", dead.as_str()),
        ("ORDERS_DATA_DIR", path(&data_dir)),
    ];
    let mut args = setup.args(&[]);
    // Their own database URLs would still be checked; here they follow the orders one.
    for flag in ["--payments-database-url", "--notifications-database-url"] {
        let at = args.iter().position(|a| a == flag).unwrap();
        args.drain(at..at + 2);
    }
    let run = doctor(&env, &args).await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
    let postgres = run.line("postgres");
    let starts = format!(
        "ok    postgres          none runs here; `orders serve` starts a private cluster in {} (",
        data_dir.display()
    );
    assert!(postgres.starts_with(&starts), "{postgres}");
    assert_eq!(
        run.line("clock"),
        "skip  clock             PostgreSQL starts with `orders serve`"
    );
    for name in ["orders-db", "payments-db", "notifications-db"] {
        let skipped = format!("skip  {name:<16}  needs the PostgreSQL server above");
        assert_eq!(run.line(name), skipped);
    }
    assert!(!data_dir.exists(), "the doctor started nothing");
}
