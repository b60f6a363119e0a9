//! ArchiveProduct and UnarchiveProduct, and what an archived product means
//! to every other RPC: CreateOrder refuses it (also on a server process
//! that had it cached) and takes nothing, ListProducts and SearchProducts
//! leave it out unless asked, GetProduct, GetOrder and GetOrderHistory still
//! show it, RestockProduct still adds to it; once unarchived it can be
//! ordered again everywhere.

use orders::proto;
use tonic::Code;

use crate::{
    api_calls::{
        create_product, get_order, get_product, history, place_order, product_id, stocks, try_create_order, try_restock,
    },
    app::{TestApp, spawn_app, spawn_replica},
    assertions::{assert_error, assert_invalid_fields, assert_not_found, precondition_violations, time},
    catalog_admin::{
        archive, assert_stale_etag, audit_actions, list_products, skus, try_archive, try_unarchive, unarchive,
    },
    direct_sql::count_rows,
    requests::{keyed_order_request, order_request, request_id},
};

#[tokio::test]
async fn archiving_sets_archive_time_and_unarchiving_clears_it() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    let archived = archive(&app.catalog, id).await;
    let archive_time = time(archived.archive_time);
    assert!(archive_time > time(tea.update_time));
    assert_eq!(time(archived.update_time), archive_time);
    assert_ne!(archived.etag, tea.etag);
    let kept = proto::Product {
        archive_time: None,
        etag: tea.etag.clone(),
        update_time: tea.update_time,
        ..archived.clone()
    };
    assert_eq!(kept, tea, "everything else is kept, the stock too");
    assert_eq!(get_product(&app, id).await, archived, "GetProduct still shows it");

    let back = unarchive(&app.catalog, id).await;
    assert_eq!(back.archive_time, None);
    assert!(time(back.update_time) > archive_time);
    assert!(back.etag != archived.etag && back.etag != tea.etag, "a new etag");
    assert_eq!(get_product(&app, id).await, back);
    let actions = ["PRODUCT_CREATED", "PRODUCT_ARCHIVED", "PRODUCT_UNARCHIVED"];
    assert_eq!(audit_actions(&app).await, actions);
}

#[tokio::test]
async fn archiving_an_archived_product_or_unarchiving_an_active_one_changes_nothing() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    assert_eq!(unarchive(&app.catalog, id).await, tea);
    assert_eq!(try_unarchive(&app.catalog, id, &tea.etag, "").await.unwrap(), tea);
    let archived = archive(&app.catalog, id).await;
    assert_eq!(
        archive(&app.catalog, id).await,
        archived,
        "the same archive_time and etag"
    );
    assert_eq!(
        try_archive(&app.catalog, id, &archived.etag, "").await.unwrap(),
        archived
    );
    assert_eq!(get_product(&app, id).await, archived);
    assert_eq!(audit_actions(&app).await, ["PRODUCT_CREATED", "PRODUCT_ARCHIVED"]);
}

#[tokio::test]
async fn a_stale_etag_unknown_product_or_malformed_field_changes_nothing() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    let archived = try_archive(&app.catalog, id, &tea.etag, "").await.unwrap();
    // Unarchiving or archiving with the etag read before the archiving.
    assert_stale_etag(&try_unarchive(&app.catalog, id, &tea.etag, "").await.unwrap_err(), id);
    assert_stale_etag(&try_archive(&app.catalog, id, &tea.etag, "").await.unwrap_err(), id);
    assert_eq!(get_product(&app, id).await, archived);
    let back = try_unarchive(&app.catalog, id, &archived.etag, "").await.unwrap();
    assert_eq!(back.archive_time, None);

    let unknown = uuid::Uuid::new_v4().to_string();
    for status in [
        try_archive(&app.catalog, &unknown, "", "").await.unwrap_err(),
        try_unarchive(&app.catalog, &unknown, "", "").await.unwrap_err(),
    ] {
        assert_not_found(&status, "PRODUCT_NOT_FOUND", "orders.v1.Product", &unknown);
    }
    for status in [
        try_archive(&app.catalog, "42", "", "").await.unwrap_err(),
        try_unarchive(&app.catalog, "", "", "").await.unwrap_err(),
    ] {
        assert_invalid_fields(&status, &["product_id"]);
    }
    for status in [
        try_archive(&app.catalog, id, "", "nope").await.unwrap_err(),
        try_unarchive(&app.catalog, id, "", "nope").await.unwrap_err(),
    ] {
        assert_invalid_fields(&status, &["request_id"]);
    }
    assert_eq!(get_product(&app, id).await, back);
    let actions = ["PRODUCT_CREATED", "PRODUCT_ARCHIVED", "PRODUCT_UNARCHIVED"];
    assert_eq!(audit_actions(&app).await, actions);
}

#[tokio::test]
async fn archive_and_unarchive_are_idempotent_per_request_id() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    let key = request_id();
    let archived = try_archive(&app.catalog, id, &tea.etag, &key).await.unwrap();
    let back = unarchive(&app.catalog, id).await;
    // The retry gets the first answer and does not archive it again.
    assert_eq!(try_archive(&app.catalog, id, &tea.etag, &key).await.unwrap(), archived);
    assert_eq!(get_product(&app, id).await, back);
    let status = try_archive(&app.catalog, id, "", &key).await.unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    assert_eq!(
        precondition_violations(&details),
        [format!("REQUEST_ID request_id/{key}")]
    );

    let again = archive(&app.catalog, id).await;
    let key = request_id();
    let unarchived = try_unarchive(&app.catalog, id, "", &key).await.unwrap();
    archive(&app.catalog, id).await;
    assert_eq!(try_unarchive(&app.catalog, id, "", &key).await.unwrap(), unarchived);
    assert!(get_product(&app, id).await.archive_time.is_some());
    let status = try_unarchive(&app.catalog, id, &again.etag, &key).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    let actions = [
        "PRODUCT_CREATED",
        "PRODUCT_ARCHIVED",
        "PRODUCT_UNARCHIVED",
        "PRODUCT_ARCHIVED",
        "PRODUCT_UNARCHIVED",
        "PRODUCT_ARCHIVED",
    ];
    assert_eq!(audit_actions(&app).await, actions);
}

#[tokio::test]
async fn an_archived_product_cannot_be_ordered_and_nothing_is_taken() {
    let app = spawn_app().await;
    let [a, b, c] = [
        product_id(&app, "A", 10).await,
        product_id(&app, "B", 10).await,
        product_id(&app, "C", 10).await,
    ];
    // Ordered once, so that this server has B cached as orderable.
    place_order(&app, "ada", &[(&b, 1)]).await;
    archive(&app.catalog, &b).await;
    archive(&app.catalog, &c).await;
    let status = try_create_order(&app, order_request("ada", &[(&a, 2), (&b, 1), (&c, 3)]))
        .await
        .unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "PRODUCT_ARCHIVED");
    let expected = [
        format!("PRODUCT_ARCHIVED products/{b}"),
        format!("PRODUCT_ARCHIVED products/{c}"),
    ];
    assert_eq!(precondition_violations(&details), expected);
    let status = try_create_order(&app, keyed_order_request("ada", &[(&b, 1)]))
        .await
        .unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "PRODUCT_ARCHIVED");
    assert_eq!(
        precondition_violations(&details),
        [format!("PRODUCT_ARCHIVED products/{b}")]
    );
    assert_eq!(stocks(&app, &[&a, &b, &c]).await, [10, 9, 10]);
    assert_eq!(count_rows(&app, "orders").await, 1);
    assert_eq!(count_rows(&app, "idempotency_keys").await, 0);
}

#[tokio::test]
async fn list_products_leaves_archived_products_out_unless_asked() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for sku in ["A", "B", "C", "D", "E"] {
        ids.push(product_id(&app, sku, 1).await);
    }
    archive(&app.catalog, &ids[1]).await;
    archive(&app.catalog, &ids[3]).await;
    let active = list_products(&app.catalog, 0, "", false).await.unwrap();
    assert_eq!(skus(&active.products), ["A", "C", "E"]);
    assert_eq!(active.next_page_token, "");
    let all = list_products(&app.catalog, 0, "", true).await.unwrap();
    assert_eq!(skus(&all.products), ["A", "B", "C", "D", "E"]);
    let archived: Vec<bool> = all.products.iter().map(|p| p.archive_time.is_some()).collect();
    assert_eq!(archived, [false, true, false, true, false]);
    assert_eq!(all.products[1], get_product(&app, &ids[1]).await);

    // Page by page, each listing has its own pages and tokens.
    assert_eq!(walk(&app, 2, false).await, [vec!["A", "C"], vec!["E"]]);
    assert_eq!(walk(&app, 2, true).await, [vec!["A", "B"], vec!["C", "D"], vec!["E"]]);
    let without = list_products(&app.catalog, 1, "", false).await.unwrap().next_page_token;
    let with = list_products(&app.catalog, 1, "", true).await.unwrap().next_page_token;
    assert_invalid_fields(
        &list_products(&app.catalog, 1, &without, true).await.unwrap_err(),
        &["page_token"],
    );
    assert_invalid_fields(
        &list_products(&app.catalog, 1, &with, false).await.unwrap_err(),
        &["page_token"],
    );

    // Brought back, a product is listed again.
    unarchive(&app.catalog, &ids[3]).await;
    assert_eq!(walk(&app, 2, false).await, [vec!["A", "C"], vec!["D", "E"]]);
}

/// The SKUs of every page of ListProducts, walked from the first.
async fn walk(app: &TestApp, page_size: i32, show_archived: bool) -> Vec<Vec<String>> {
    let (mut pages, mut token) = (Vec::new(), String::new());
    loop {
        let page = list_products(&app.catalog, page_size, &token, show_archived)
            .await
            .unwrap();
        pages.push(skus(&page.products));
        token = page.next_page_token;
        if token.is_empty() || pages.len() > 10 {
            return pages;
        }
    }
}

#[tokio::test]
async fn search_leaves_archived_products_out_unless_asked() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for sku in ["TEA-1", "TEA-2", "TEA-3"] {
        ids.push(product_id(&app, sku, 1).await);
    }
    archive(&app.catalog, &ids[1]).await;
    let search = async |show_archived| {
        let request = proto::SearchProductsRequest {
            query: "product".into(),
            page_size: 0,
            page_token: String::new(),
            show_archived,
        };
        let response = app.catalog.clone().search_products(request).await.unwrap().into_inner();
        let mut found: Vec<String> = response.results.into_iter().map(|r| r.product.unwrap().sku).collect();
        found.sort();
        found
    };
    assert_eq!(search(false).await, ["TEA-1", "TEA-3"]);
    assert_eq!(search(true).await, ["TEA-1", "TEA-2", "TEA-3"]);
    unarchive(&app.catalog, &ids[1]).await;
    assert_eq!(search(false).await, ["TEA-1", "TEA-2", "TEA-3"]);
}

#[tokio::test]
async fn past_orders_still_show_an_archived_product() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 500_000_000, "EUR"), 10).await;
    let order = place_order(&app, "ada", &[(&tea.product_id, 2)]).await;
    let archived = archive(&app.catalog, &tea.product_id).await;
    assert_eq!(get_order(&app, &order.order_id).await, order);
    let orders = history(&app, "ada", 0, "").await.unwrap().orders;
    assert_eq!(orders, [order]);
    assert_eq!(get_product(&app, &tea.product_id).await, archived);
}

#[tokio::test]
async fn an_archived_product_keeps_its_stock_and_can_be_restocked() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 7).await;
    let archived = archive(&app.catalog, &tea.product_id).await;
    assert_eq!(archived.stock, 7);
    let restocked = try_restock(&app, &tea.product_id, 5, "").await.unwrap();
    assert_eq!(restocked.stock, 12);
    assert_eq!(restocked.archive_time, archived.archive_time, "still archived");
    assert_eq!(restocked.etag, archived.etag, "stock is not a detail");
    let back = unarchive(&app.catalog, &tea.product_id).await;
    assert_eq!(back.stock, 12);
    place_order(&app, "ada", &[(&tea.product_id, 12)]).await;
    assert_eq!(get_product(&app, &tea.product_id).await.stock, 0);
}

#[tokio::test]
async fn an_unarchived_product_can_be_ordered_again_on_every_server() {
    let app = spawn_app().await;
    let replica = spawn_replica(&app, |_| {}).await;
    let tea = product_id(&app, "TEA", 100).await;
    let mug = product_id(&app, "MUG", 100).await;
    // Both servers have both products cached as orderable.
    for server in [&app, &replica] {
        place_order(server, "ada", &[(&tea, 1), (&mug, 1)]).await;
    }
    // TEA is archived on the first server: the replica refuses it as well.
    archive(&app.catalog, &tea).await;
    for server in [&replica, &app] {
        let status = try_create_order(server, order_request("ada", &[(&tea, 1)]))
            .await
            .unwrap_err();
        let details = assert_error(&status, Code::FailedPrecondition, "PRODUCT_ARCHIVED");
        assert_eq!(
            precondition_violations(&details),
            [format!("PRODUCT_ARCHIVED products/{tea}")]
        );
    }
    // Brought back: both servers take orders for it again.
    unarchive(&app.catalog, &tea).await;
    for server in [&replica, &app] {
        place_order(server, "ada", &[(&tea, 1)]).await;
    }
    // MUG is archived and brought back while the replica still has it cached.
    archive(&app.catalog, &mug).await;
    unarchive(&app.catalog, &mug).await;
    for server in [&replica, &app] {
        place_order(server, "ada", &[(&mug, 1)]).await;
    }
    assert_eq!(stocks(&app, &[&tea, &mug]).await, [96, 96]);
    assert_eq!(count_rows(&app, "orders").await, 6);
}
