//! What every real change leaves behind: one audit row with the values
//! before and after, and one event.

use super::*;

#[tokio::test]
async fn each_change_writes_one_audit_row_with_only_the_changed_values() {
    let app = spawn_secured_app().await;
    let admin = app.with_token(&token("merch", &["catalog-admin"]));
    let tea = create_named(&admin.catalog, "TEA", "Old", (4, 0, "EUR")).await;
    let id = tea.product_id.as_str();
    // `*`, but only the price differs.
    let (repriced, rename) = (request_id(), "rename-7");
    let price = proto::Product {
        name: "Old".into(),
        description: tea.description.clone(),
        price: Some(money("EUR", 5, 0)),
        ..changes_to(id)
    };
    let mut request = update_request(price.clone(), &["*"]);
    request.request_id = repriced.clone();
    try_update(&admin.catalog, request).await.unwrap();
    // The name, with the request id in `x-request-id` only.
    let name = proto::Product {
        name: "New".into(),
        ..changes_to(id)
    };
    let mut request = Request::new(update_request(name, &["name"]));
    request.metadata_mut().insert("x-request-id", rename.parse().unwrap());
    admin.catalog.clone().update_product(request).await.unwrap();
    let (archived, unarchived) = (request_id(), request_id());
    try_archive(&admin.catalog, id, "", &archived).await.unwrap();
    try_archive(&admin.catalog, id, "", "").await.unwrap();
    try_unarchive(&admin.catalog, id, "", &unarchived).await.unwrap();
    try_unarchive(&admin.catalog, id, "", "").await.unwrap();
    let same = proto::Product {
        name: "New".into(),
        ..price
    };
    try_update(&admin.catalog, update_request(same, &["*"])).await.unwrap();

    let rows = audit_rows(&app).await;
    assert_eq!(rows[0].action, "PRODUCT_CREATED");
    assert_eq!((&rows[0].before, &rows[0].after), (&None, &None));
    let merch = "merch as catalog-admin";
    let eur = |units: i64| json!({"price": {"currency_code": "EUR", "units": units, "nanos": 0}});
    assert_eq!(
        rows[1..],
        [
            ProductChange::new("PRODUCT_UPDATED", id, merch, &repriced, eur(4), eur(5)),
            ProductChange::new(
                "PRODUCT_UPDATED",
                id,
                merch,
                rename,
                json!({"name": "Old"}),
                json!({"name": "New"})
            ),
            ProductChange::new(
                "PRODUCT_ARCHIVED",
                id,
                merch,
                &archived,
                json!({"archived": false}),
                json!({"archived": true})
            ),
            ProductChange::new(
                "PRODUCT_UNARCHIVED",
                id,
                merch,
                &unarchived,
                json!({"archived": true}),
                json!({"archived": false})
            ),
        ]
    );
}

#[tokio::test]
async fn changes_publish_one_event_each_with_the_product_before_and_after() {
    let events = TestEvents::new().await;
    let app = spawn_secured_app_with(|s| events.configure(s)).await;
    let admin = app.with_token(&token("merch", &["catalog-admin"]));
    let mug = create_named(&admin.catalog, "MUG", "Mug", (3, 0, "EUR")).await;
    let id = mug.product_id.as_str();
    let bigger = proto::Product {
        name: "Big mug".into(),
        description: mug.description.clone(),
        price: Some(money("EUR", 4, 500_000_000)),
        ..changes_to(id)
    };
    let updated = try_update(&admin.catalog, update_request(bigger.clone(), &["*"]))
        .await
        .unwrap();
    try_update(&admin.catalog, update_request(bigger, &["*"]))
        .await
        .unwrap();
    let archived = try_archive(&admin.catalog, id, "", "").await.unwrap();
    try_archive(&admin.catalog, id, "", "").await.unwrap();
    let unarchived = try_unarchive(&admin.catalog, id, "", "").await.unwrap();

    let published = events.wait_for(4, 10).await;
    let kinds: Vec<(String, &str)> = (published.iter())
        .map(|e| (e.subject.replacen(&events.prefix, "<prefix>", 1), e.event_type.as_str()))
        .collect();
    let kind = |subject: &str, event_type| (format!("<prefix>.{subject}"), event_type);
    assert_eq!(
        kinds,
        [
            kind("product.created", "orders.v1.ProductCreated"),
            kind("product.updated", "orders.v1.ProductUpdated"),
            kind("product.archived", "orders.v1.ProductArchived"),
            kind("product.unarchived", "orders.v1.ProductUnarchived"),
        ],
        "one event per change, none for the changes that changed nothing"
    );
    let merch = Some(proto::Actor {
        subject: "merch".into(),
        role: "catalog-admin".into(),
    });

    let update: proto::ProductUpdated = published[1].decode();
    assert_eq!(update.event_id, published[1].message_id);
    assert!(uuid::Uuid::parse_str(&update.event_id).is_ok(), "{}", update.event_id);
    assert_eq!(update.product.as_ref(), Some(&updated));
    assert_eq!(update.previous.as_ref(), Some(&mug));
    let changed = update.changed_fields.expect("changed_fields").paths;
    assert_eq!(changed, ["name", "price"], "the description did not change");
    assert_eq!(update.event_time, updated.update_time);
    assert_eq!(update.actor, merch);

    let archive: proto::ProductArchived = published[2].decode();
    assert_eq!(archive.event_id, published[2].message_id);
    assert_eq!(archive.product.as_ref(), Some(&archived));
    assert!(archived.archive_time.is_some());
    assert_eq!(archive.event_time, archived.archive_time);
    assert_eq!(archive.actor, merch);

    let unarchive: proto::ProductUnarchived = published[3].decode();
    assert_eq!(unarchive.event_id, published[3].message_id);
    assert_eq!(unarchive.product.as_ref(), Some(&unarchived));
    assert_eq!(unarchived.archive_time, None);
    assert_eq!(unarchive.event_time, unarchived.update_time);
    assert_eq!(unarchive.actor, merch);
    assert_eq!(events.published().await.len(), 4);
    events.delete().await;
}
