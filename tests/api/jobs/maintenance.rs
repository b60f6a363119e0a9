//! The purge jobs, run by each service's own worker (`orders_worker`, the
//! payment service's `worker`): each deletes exactly what is past its
//! retention and keeps the rest.

use std::time::Duration;

use orders::actions::maintenance::{PURGE_IDEMPOTENCY_KEYS, PURGE_PUBLISHED_EVENTS, orders_worker};

use super::support::{JobsDb, Running, wait_until_succeeded};

fn days(n: u64) -> Duration {
    Duration::from_secs(n * 24 * 3600)
}

/// Runs the orders worker until the job of `kind` has succeeded.
async fn run_purge(db: &JobsDb, kind: &str, idempotency_retention: Duration, outbox_retention: Duration) {
    let worker = orders_worker(
        db.pool.clone(),
        db.url.clone().into(),
        idempotency_retention,
        outbox_retention,
    );
    run_until_succeeded(db, worker, kind).await;
}

async fn run_until_succeeded(db: &JobsDb, worker: orders::jobs::Worker, kind: &str) {
    let running = Running::start(worker);
    wait_until_succeeded(db, kind).await;
    running.stop().await;
}

/// Inserts `n` idempotency keys created `age` ago (an SQL interval).
async fn insert_keys(db: &JobsDb, n: u32, age: &str) {
    let insert = format!(
        "INSERT INTO idempotency_keys (scope, request_id, request_hash, create_time) \
         SELECT 'CreateProduct', gen_random_uuid(), sha256(i::text::bytea), now() - interval '{age}' \
         FROM generate_series(1, {n}) AS i"
    );
    db.execute(&insert).await;
}

/// Records `n` product creations made `age` ago (an SQL interval), with
/// their events, as CreateProduct would.
async fn record_events(db: &JobsDb, n: u32, age: &str) {
    let insert = format!(
        "INSERT INTO audit_events (event_time, actor_subject, actor_role, action, resource_type, resource_id, \
                                   event_id, event_payload) \
         SELECT now() - interval '{age}', 'admin', 'catalog-admin', 'PRODUCT_CREATED', 'orders.v1.Product', \
                gen_random_uuid(), gen_random_uuid(), '\\x0a00'::bytea \
         FROM generate_series(1, {n})"
    );
    db.execute(&insert).await;
}

/// Moves the relay's watermark to the `n`th event (in publishing order), as
/// the relay does once JetStream has acked the first `n`.
async fn publish_events(db: &JobsDb, n: u32) {
    let publish = format!(
        "UPDATE outbox_cursor SET (transaction_id, row_id) = \
           (SELECT transaction_id, id FROM audit_events ORDER BY transaction_id, id OFFSET {} LIMIT 1)",
        n - 1
    );
    db.execute(&publish).await;
}

#[tokio::test]
async fn the_key_purge_deletes_exactly_the_keys_past_the_retention() {
    let db = JobsDb::create().await;
    // More than one batch of expired keys, some just inside the retention.
    insert_keys(&db, 12_000, "40 days").await;
    insert_keys(&db, 15, "29 days").await;
    insert_keys(&db, 7, "1 minute").await;

    run_purge(&db, PURGE_IDEMPOTENCY_KEYS, days(30), days(7)).await;

    assert_eq!(db.query_n("SELECT count(*) AS n FROM idempotency_keys").await, 22);
    let old = "SELECT count(*) AS n FROM idempotency_keys WHERE create_time < now() - interval '30 days'";
    assert_eq!(db.query_n(old).await, 0);
}

#[tokio::test]
async fn the_payment_services_worker_purges_its_keys_past_the_retention_too() {
    // Its database's idempotency_keys and jobs tables are the orders
    // database's, column for column (tests/api/schema.rs).
    let db = JobsDb::create().await;
    insert_keys(&db, 10_005, "40 days").await;
    insert_keys(&db, 3, "1 minute").await;

    let worker = orders::payments::worker(db.pool.clone(), db.url.clone().into(), days(30));
    run_until_succeeded(&db, worker, PURGE_IDEMPOTENCY_KEYS).await;

    assert_eq!(db.query_n("SELECT count(*) AS n FROM idempotency_keys").await, 3);
}

#[tokio::test]
async fn the_outbox_purge_drops_exactly_the_published_payloads_past_the_retention() {
    let db = JobsDb::create().await;
    record_events(&db, 2, "10 days").await;
    record_events(&db, 2, "1 hour").await;
    record_events(&db, 1, "10 days").await;
    // The fifth stays unpublished, as old as the first two.
    publish_events(&db, 4).await;

    run_purge(&db, PURGE_PUBLISHED_EVENTS, days(30), days(7)).await;

    assert_eq!(
        db.query_n("SELECT count(*) AS n FROM audit_events").await,
        5,
        "the audit rows stay"
    );
    let dropped = "SELECT count(*) AS n FROM audit_events WHERE event_payload IS NULL";
    assert_eq!(db.query_n(dropped).await, 2);
    let dropped_old = "SELECT count(*) AS n FROM audit_events a, outbox_cursor c \
                       WHERE a.event_payload IS NULL AND a.event_time < now() - interval '7 days' \
                         AND (a.transaction_id, a.id) <= (c.transaction_id, c.row_id)";
    assert_eq!(db.query_n(dropped_old).await, 2);
    assert_eq!(
        db.query_n("SELECT count(*) AS n FROM outbox_backlog").await,
        1,
        "the unpublished one keeps its payload"
    );
}
