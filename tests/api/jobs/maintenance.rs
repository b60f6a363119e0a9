//! The orders service's purge jobs, run by its own worker
//! (`orders_worker`): each deletes exactly what is past its retention and
//! keeps the rest.

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

/// Records `n` product creations with their events, as CreateProduct would.
async fn record_events(db: &JobsDb, n: u32) {
    let insert = format!(
        "INSERT INTO audit_events (actor_subject, actor_role, action, resource_type, resource_id, \
                                   event_id, event_payload) \
         SELECT 'admin', 'catalog-admin', 'PRODUCT_CREATED', 'orders.v1.Product', gen_random_uuid(), \
                gen_random_uuid(), '\\x0a00'::bytea \
         FROM generate_series(1, {n})"
    );
    db.execute(&insert).await;
}

/// Marks the audit rows at positions `skip`.. `skip + n` (in id order)
/// published `age` ago (the outbox's one allowed change, with the purge's).
async fn publish_events(db: &JobsDb, skip: u32, n: u32, age: &str) {
    let publish = format!(
        "UPDATE audit_events SET published_time = now() - interval '{age}' \
         WHERE id IN (SELECT id FROM audit_events ORDER BY id OFFSET {skip} LIMIT {n})"
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
async fn the_outbox_purge_drops_exactly_the_payloads_published_before_the_retention() {
    let db = JobsDb::create().await;
    record_events(&db, 5).await;
    publish_events(&db, 0, 2, "10 days").await;
    publish_events(&db, 2, 2, "1 hour").await;
    // The fifth stays unpublished.

    run_purge(&db, PURGE_PUBLISHED_EVENTS, days(30), days(7)).await;

    assert_eq!(
        db.query_n("SELECT count(*) AS n FROM audit_events").await,
        5,
        "the audit rows stay"
    );
    let dropped = "SELECT count(*) AS n FROM audit_events WHERE event_payload IS NULL";
    assert_eq!(db.query_n(dropped).await, 2);
    let dropped_old = "SELECT count(*) AS n FROM audit_events \
                       WHERE event_payload IS NULL AND published_time < now() - interval '7 days'";
    assert_eq!(db.query_n(dropped_old).await, 2);
}
