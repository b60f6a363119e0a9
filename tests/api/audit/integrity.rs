//! The audit trail is as trustworthy as the data it describes: a change
//! that fails at its very commit leaves neither the change nor its row, and
//! a row once written cannot be changed or deleted, nor the table emptied.

use diesel_async::SimpleAsyncConnection;
use orders::proto::{self, OrderState};
use tonic::Code;

use crate::{
    api_calls::{cancel, get_order, place_order, product_id, stock_of, try_create_order, try_restock},
    app::{TestApp, spawn_app},
    assertions::assert_error,
    direct_sql::{count_rows, execute_sql},
    requests::{order_request, product_request},
};

/// Makes every transaction that writes an audit row for `action` fail at
/// its commit, after the change and the row were written: a deferred
/// constraint trigger raises when the transaction ends.
async fn fail_commits_of(app: &TestApp, action: &str) {
    let sql = format!(
        "CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.action = '{action}' THEN RAISE EXCEPTION 'injected failure at commit'; END IF; RETURN NULL; END $$; \
         CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON audit_events \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit();"
    );
    execute_sql(app, &sql).await;
}

#[tokio::test]
async fn a_change_that_fails_at_commit_leaves_neither_the_change_nor_its_row() {
    for action in [
        "ORDER_CREATED",
        "ORDER_CANCELLED",
        "ORDER_SHIPPED",
        "PRODUCT_CREATED",
        "PRODUCT_RESTOCKED",
    ] {
        let app = spawn_app().await;
        let product = product_id(&app, "MUG", 10).await;
        let order = place_order(&app, "alice", &[(&product, 4)]).await.order_id;
        let before = (count_rows(&app, "orders").await, count_rows(&app, "products").await);
        let audited = count_rows(&app, "audit_events").await;
        fail_commits_of(&app, action).await;

        let status = match action {
            "ORDER_CREATED" => try_create_order(&app, order_request("alice", &[(&product, 1)]))
                .await
                .map(drop),
            "ORDER_CANCELLED" => cancel(&app, &order, "alice", "").await.map(drop),
            "ORDER_SHIPPED" => (app.orders.clone())
                .ship_order(proto::ShipOrderRequest {
                    order_id: order.clone(),
                })
                .await
                .map(drop),
            "PRODUCT_CREATED" => (app.catalog.clone())
                .create_product(product_request("CUP", (1, 0, "EUR"), 1))
                .await
                .map(drop),
            _ => try_restock(&app, &product, 5, "").await.map(drop),
        }
        .unwrap_err();
        assert_error(&status, Code::Internal, "INTERNAL");
        assert_eq!(
            status.message(),
            "internal error",
            "{action}: nothing of the cause is sent"
        );

        assert_eq!(count_rows(&app, "audit_events").await, audited, "{action}");
        assert_eq!(
            (count_rows(&app, "orders").await, count_rows(&app, "products").await),
            before,
            "{action}"
        );
        assert_eq!(stock_of(&app, &product).await, 6, "{action}: the stock is as before");
        assert_eq!(get_order(&app, &order).await.state(), OrderState::Placed, "{action}");
    }
}

#[tokio::test]
async fn the_audit_trail_cannot_be_changed_or_emptied() {
    let app = spawn_app().await;
    product_id(&app, "MUG", 1).await;
    for sql in [
        "UPDATE audit_events SET actor_subject = 'someone else'",
        "UPDATE audit_events SET transaction_id = transaction_id + 1",
        "UPDATE audit_events SET event_payload = NULL, actor_role = 'none'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let mut conn = app.connect().await;
        let error = conn.batch_execute(sql).await.unwrap_err();
        assert!(
            error.to_string().contains("audit_events is append-only"),
            "{sql}: {error}"
        );
    }
    assert_eq!(count_rows(&app, "audit_events").await, 1);
}
