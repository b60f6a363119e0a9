//! The schema holds the ledger's rules by itself: straight SQL cannot
//! overdraw, skip a sequence, move money after a final state, or change or
//! remove an entry.

use diesel_async::RunQueryDsl;

use super::{eur, spawn_payments};

/// Runs `sql` on the payments database; the error's message if it fails.
async fn refused(app: &super::PaymentsApp, sql: &str) -> String {
    match diesel::sql_query(sql).execute(&mut app.db().await).await {
        Ok(_) => panic!("the schema accepted: {sql}"),
        Err(error) => error.to_string(),
    }
}

/// An INSERT of a movement of `payment` with these values.
fn movement(payment: &str, sequence: i64, kind: &str, amount: i64, totals: [i64; 4]) -> String {
    let [authorized, captured, released, refunded] = totals;
    format!(
        "INSERT INTO payment_movements (payment_id, sequence, kind, amount_nanos, authorized_nanos, captured_nanos, \
         released_nanos, refunded_nanos, request_id, create_time, event_id, event_payload) VALUES \
         ('{payment}', {sequence}, '{kind}', {amount}, {authorized}, {captured}, {released}, {refunded}, \
         gen_random_uuid(), now(), gen_random_uuid(), '')"
    )
}

const TEN: i64 = 10_000_000_000;

#[tokio::test]
async fn the_schema_refuses_overdraws() {
    let app = spawn_payments().await;
    let payment = app.capture(&app.authorized(10).await, Some(eur(10, 0))).await.unwrap();
    let id = &payment.payment_id;
    // Refunding more than was captured, with honest totals: the CHECK.
    let error = refused(&app, &movement(id, 3, "refunded", TEN + 1, [TEN, TEN, 0, TEN + 1])).await;
    assert!(error.contains("payment_movements_refunded_within_captured"), "{error}");
    // Lying totals: the trigger.
    let error = refused(&app, &movement(id, 3, "refunded", TEN + 1, [TEN, TEN, 0, TEN])).await;
    assert!(error.contains("do not add up"), "{error}");
    // A second capture above the authorization.
    let fresh = app.authorized(10).await;
    let error = refused(
        &app,
        &movement(&fresh.payment_id, 2, "captured", TEN + 1, [TEN, TEN + 1, 0, 0]),
    )
    .await;
    assert!(
        error.contains("payment_movements_captured_within_authorized"),
        "{error}"
    );
    assert_eq!(app.movements().await, 3);
}

#[tokio::test]
async fn the_schema_refuses_gaps_and_movements_after_a_final_state() {
    let app = spawn_payments().await;
    let payment = app.authorized(10).await;
    let error = refused(
        &app,
        &movement(&payment.payment_id, 3, "captured", TEN, [TEN, TEN, 0, 0]),
    )
    .await;
    assert!(error.contains("does not follow"), "{error}");
    let cancelled = app.cancel(&payment).await.unwrap();
    let error = refused(
        &app,
        &movement(&cancelled.payment_id, 3, "captured", 1, [TEN, 1, TEN, 0]),
    )
    .await;
    assert!(error.contains("final state"), "{error}");
}

#[tokio::test]
async fn the_ledger_cannot_be_updated_deleted_or_truncated() {
    let app = spawn_payments().await;
    app.authorized(10).await;
    for sql in [
        "UPDATE payment_movements SET amount_nanos = 1",
        "UPDATE payment_movements SET reason = 'edited'",
        "DELETE FROM payment_movements",
        "TRUNCATE payment_movements",
    ] {
        let error = refused(&app, sql).await;
        assert!(error.contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM payment_movements WHERE reason = ''")
            .await,
        1
    );
}
