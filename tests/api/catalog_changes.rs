//! CatalogService.UpdateProduct: the field mask (named, implied, `*`, and
//! every path that cannot change), the new values checked as in
//! CreateProduct, the etag that guards a change (and that stock movements
//! leave alone), idempotency, updates that change nothing, and what every
//! real change leaves behind: one audit row with the values before and
//! after, and one event. Archiving is in [`crate::archiving`], prices and
//! orders in [`crate::price_changes`].

use std::collections::HashSet;

use orders::proto;
use serde_json::json;
use tonic::{Code, Request};

use crate::{
    api_calls::{create_product, get_product, place_order, try_restock},
    app::{Catalog, spawn_app, spawn_secured_app, spawn_secured_app_with},
    assertions::{assert_error, assert_invalid_fields, assert_not_found, precondition_violations, time},
    catalog_admin::{
        ProductChange, assert_stale_etag, audit_actions, audit_rows, changes_to, try_archive, try_unarchive,
        try_update, update_price, update_request,
    },
    nats::TestEvents,
    requests::{money, product_request, request_id},
    tokens::token,
};

/// Creates a product named `name` through `catalog` and returns it.
async fn create_named(catalog: &Catalog, sku: &str, name: &str, price: (i64, i32, &str)) -> proto::Product {
    let mut request = product_request(sku, price, 10);
    request.name = name.to_owned();
    let response = catalog.clone().create_product(request).await.unwrap();
    response.into_inner().product.unwrap()
}

#[tokio::test]
async fn the_fields_in_the_mask_change_and_the_others_are_kept() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    // Everything is set, but only the price is in the mask.
    let everything = proto::Product {
        sku: "NOT-THIS".into(),
        name: "Not this name".into(),
        description: "Not this description".into(),
        price: Some(money("EUR", 5, 250_000_000)),
        stock: 99,
        ..changes_to(id)
    };
    let repriced = try_update(&app.catalog, update_request(everything, &["price"]))
        .await
        .unwrap();
    assert_eq!(repriced.price, Some(money("EUR", 5, 250_000_000)));
    assert_ne!(repriced.etag, tea.etag);
    assert!(time(repriced.update_time) > time(tea.update_time));
    let unchanged = proto::Product {
        price: tea.price.clone(),
        etag: tea.etag.clone(),
        update_time: tea.update_time,
        ..repriced.clone()
    };
    assert_eq!(unchanged, tea, "nothing else changed");
    assert_eq!(get_product(&app, id).await, repriced);

    // An empty description in the mask clears it; the name is trimmed.
    let renamed = proto::Product {
        name: "  Green tea  ".into(),
        ..changes_to(id)
    };
    let renamed = try_update(&app.catalog, update_request(renamed, &["name", "description"]))
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.description.as_str(), &renamed.price),
        ("Green tea", "", &Some(money("EUR", 5, 250_000_000)))
    );

    // `*` takes all three, the currency included.
    let all = proto::Product {
        name: "Black tea".into(),
        description: "Strong".into(),
        price: Some(money("USD", 6, 0)),
        ..changes_to(id)
    };
    let replaced = try_update(&app.catalog, update_request(all, &["*"])).await.unwrap();
    let details = (replaced.name.as_str(), replaced.description.as_str(), &replaced.price);
    assert_eq!(details, ("Black tea", "Strong", &Some(money("USD", 6, 0))));
    assert_eq!((replaced.sku.as_str(), replaced.stock), ("TEA", 10));
    assert_eq!(get_product(&app, id).await, replaced);
}

#[tokio::test]
async fn an_empty_mask_changes_the_fields_that_are_set() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    let name_only = proto::Product {
        name: "Green tea".into(),
        ..changes_to(id)
    };
    let renamed = try_update(&app.catalog, update_request(name_only, &[])).await.unwrap();
    assert_eq!(
        (renamed.name.as_str(), &renamed.description, &renamed.price),
        ("Green tea", &tea.description, &tea.price)
    );

    // No mask at all is the same as an empty one.
    let description_and_price = proto::Product {
        description: "Loose leaf".into(),
        price: Some(money("EUR", 7, 0)),
        ..changes_to(id)
    };
    let mut request = update_request(description_and_price, &[]);
    request.update_mask = None;
    let changed = try_update(&app.catalog, request).await.unwrap();
    assert_eq!(
        (changed.name.as_str(), changed.description.as_str(), &changed.price),
        ("Green tea", "Loose leaf", &Some(money("EUR", 7, 0)))
    );

    // Nothing set and no mask: nothing to change, which is a mistake.
    let status = try_update(&app.catalog, update_request(changes_to(id), &[]))
        .await
        .unwrap_err();
    assert_invalid_fields(&status, &["update_mask"]);
    assert_eq!(get_product(&app, id).await, changed);
}

#[tokio::test]
async fn a_mask_may_name_only_name_description_and_price() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    let values = proto::Product {
        name: "Green tea".into(),
        description: "Loose leaf".into(),
        price: Some(money("EUR", 5, 0)),
        ..changes_to(id)
    };
    let masks: [&[&str]; 15] = [
        &["sku"],
        &["stock"],
        &["product_id"],
        &["create_time"],
        &["update_time"],
        &["etag"],
        &["archive_time"],
        &["colour"],
        &["Name"],
        &[""],
        &["price.units"],
        &["price.currency_code"],
        &["name", "sku"],
        &["*", "name"],
        &["price", "*"],
    ];
    for paths in masks {
        let status = try_update(&app.catalog, update_request(values.clone(), paths))
            .await
            .unwrap_err();
        assert_invalid_fields(&status, &["update_mask"]);
    }
    assert_eq!(get_product(&app, id).await, tea, "not even the valid paths changed");
    assert_eq!(audit_actions(&app).await, ["PRODUCT_CREATED"]);
}

type Edit = fn(&mut proto::Product);

#[tokio::test]
async fn each_malformed_value_is_named_in_bad_request() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    // (the mask's one path, the edit, the one field named)
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("name", |p| p.name = String::new(), "product.name"),
        ("name", |p| p.name = "   ".into(), "product.name"),
        ("name", |p| p.name = "é".repeat(201), "product.name"),
        ("name", |p| p.name = "Te\u{7}a".into(), "product.name"),
        (
            "description",
            |p| p.description = "d".repeat(2001),
            "product.description",
        ),
        (
            "description",
            |p| p.description = "a\u{0}b".into(),
            "product.description",
        ),
        ("price", |p| p.price = None, "product.price"),
        ("price", |p| p.price = Some(money("EUR", 0, 0)), "product.price"),
        ("price", |p| p.price = Some(money("EUR", -1, 0)), "product.price"),
        (
            "price",
            |p| p.price = Some(money("eur", 1, 0)),
            "product.price.currency_code",
        ),
        (
            "price",
            |p| p.price = Some(money("XXY", 1, 0)),
            "product.price.currency_code",
        ),
        (
            "price",
            |p| p.price = Some(money("EUR", 1, 1_000_000_000)),
            "product.price.nanos",
        ),
        ("price", |p| p.price = Some(money("EUR", 1, -5)), "product.price.nanos"),
        (
            "price",
            |p| p.price = Some(money("EUR", 1_000_000_000_001, 0)),
            "product.price.units",
        ),
        ("name", |p| p.product_id = "42".into(), "product.product_id"),
        ("name", |p| p.product_id = String::new(), "product.product_id"),
    ];
    let valid = proto::Product {
        name: "Green tea".into(),
        ..changes_to(id)
    };
    for (path, edit, field) in cases {
        let mut product = valid.clone();
        edit(&mut product);
        let status = try_update(&app.catalog, update_request(product, &[path]))
            .await
            .unwrap_err();
        assert_invalid_fields(&status, &[field]);
    }
    // Several at once, each named.
    let several = proto::Product {
        product_id: "x".into(),
        name: String::new(),
        price: Some(money("eur", 1, 0)),
        ..valid.clone()
    };
    let mut request = update_request(several, &["name", "price"]);
    request.request_id = "not-a-uuid".into();
    let status = try_update(&app.catalog, request).await.unwrap_err();
    let fields = [
        "product.product_id",
        "product.name",
        "product.price.currency_code",
        "request_id",
    ];
    assert_invalid_fields(&status, &fields);
    let mut bad_key = update_request(valid, &["name"]);
    bad_key.request_id = "not-a-uuid".into();
    assert_invalid_fields(&try_update(&app.catalog, bad_key).await.unwrap_err(), &["request_id"]);
    assert_eq!(get_product(&app, id).await, tea);
    assert_eq!(audit_actions(&app).await, ["PRODUCT_CREATED"]);

    // The boundaries themselves are accepted.
    let largest = proto::Product {
        name: "é".repeat(200),
        description: "d".repeat(2000),
        price: Some(money("EUR", 1_000_000_000_000, 0)),
        ..changes_to(id)
    };
    let updated = try_update(&app.catalog, update_request(largest, &["*"]))
        .await
        .expect("the boundaries are valid");
    assert_eq!(updated.price, Some(money("EUR", 1_000_000_000_000, 0)));
}

#[tokio::test]
async fn a_missing_product_is_named_alone() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    // As a missing shipping address is for CreateOrder: the message is
    // named, not each of the fields it would have held.
    for paths in [["name"], ["*"]] {
        let mut request = update_request(changes_to(&tea.product_id), &paths);
        request.product = None;
        let status = try_update(&app.catalog, request).await.unwrap_err();
        assert_invalid_fields(&status, &["product"]);
    }
    assert_eq!(get_product(&app, &tea.product_id).await, tea);
}

#[tokio::test]
async fn updating_an_unknown_product_is_not_found() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let product = proto::Product {
        name: "Green tea".into(),
        ..changes_to(&unknown)
    };
    let status = try_update(&app.catalog, update_request(product, &["name"]))
        .await
        .unwrap_err();
    assert_not_found(&status, "PRODUCT_NOT_FOUND", "orders.v1.Product", &unknown);
    assert_eq!(audit_actions(&app).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_stale_etag_is_aborted_and_changes_nothing() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    // Two admins read the product; the first changes the price.
    let price = proto::Product {
        price: Some(money("EUR", 5, 0)),
        etag: tea.etag.clone(),
        ..changes_to(id)
    };
    let repriced = try_update(&app.catalog, update_request(price, &["price"]))
        .await
        .unwrap();
    assert_ne!(repriced.etag, tea.etag);

    // The second renames it with the etag read before that change.
    let rename = |etag: &str| {
        let product = proto::Product {
            name: "Green tea".into(),
            etag: etag.to_owned(),
            ..changes_to(id)
        };
        update_request(product, &["name"])
    };
    assert_stale_etag(&try_update(&app.catalog, rename(&tea.etag)).await.unwrap_err(), id);
    let made_up = "0123456789abcdef";
    assert_stale_etag(&try_update(&app.catalog, rename(made_up)).await.unwrap_err(), id);
    assert_eq!(get_product(&app, id).await, repriced, "nothing changed");
    assert_eq!(audit_actions(&app).await, ["PRODUCT_CREATED", "PRODUCT_UPDATED"]);

    // Read again, reapply: it succeeds. No etag at all is no condition.
    let renamed = try_update(&app.catalog, rename(&repriced.etag)).await.unwrap();
    assert_eq!(
        (renamed.name.as_str(), &renamed.price),
        ("Green tea", &Some(money("EUR", 5, 0)))
    );
    let unconditional = proto::Product {
        description: "Loose leaf".into(),
        ..changes_to(id)
    };
    let described = try_update(&app.catalog, update_request(unconditional, &["description"]))
        .await
        .unwrap();
    assert_eq!(described.description, "Loose leaf");
}

#[tokio::test]
async fn stock_movements_leave_the_etag_alone() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    try_restock(&app, id, 5, "").await.unwrap();
    place_order(&app, "ada", &[(id, 3)]).await;
    let moved = get_product(&app, id).await;
    assert_eq!((moved.stock, moved.etag.as_str()), (12, tea.etag.as_str()));
    assert!(time(moved.update_time) > time(tea.update_time), "update_time does move");

    // A price edited with the etag read before the stock moved goes through.
    let price = proto::Product {
        price: Some(money("EUR", 5, 0)),
        etag: tea.etag.clone(),
        ..changes_to(id)
    };
    let repriced = try_update(&app.catalog, update_request(price, &["price"]))
        .await
        .unwrap();
    assert_eq!((repriced.stock, repriced.price), (12, Some(money("EUR", 5, 0))));
}

#[tokio::test]
async fn every_change_of_the_details_makes_a_new_etag() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    let mut etags = vec![tea.etag.clone()];
    let edits: [(&str, Edit); 3] = [
        ("name", |p| p.name = "Green tea".into()),
        ("description", |p| p.description = "Loose leaf".into()),
        ("price", |p| p.price = Some(money("EUR", 5, 0))),
    ];
    for (path, edit) in edits {
        let mut product = changes_to(id);
        edit(&mut product);
        etags.push(
            try_update(&app.catalog, update_request(product, &[path]))
                .await
                .unwrap()
                .etag,
        );
        assert_eq!(&get_product(&app, id).await.etag, etags.last().unwrap());
    }
    etags.push(try_archive(&app.catalog, id, "", "").await.unwrap().etag);
    etags.push(try_unarchive(&app.catalog, id, "", "").await.unwrap().etag);
    for etag in &etags {
        assert!(
            etag.len() == 16 && etag.chars().all(|c| c.is_ascii_hexdigit()),
            "16 hex characters: {etag:?}"
        );
    }
    let distinct: HashSet<&String> = etags.iter().collect();
    assert_eq!(distinct.len(), 6, "each change made a new etag: {etags:?}");
    assert_eq!(get_product(&app, id).await.etag, etags[5]);
}

#[tokio::test]
async fn an_update_to_the_current_values_changes_nothing() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    // The same values (the name's spaces are trimmed as ever), with the etag.
    let same = proto::Product {
        name: format!("  {}  ", tea.name),
        description: tea.description.clone(),
        price: tea.price.clone(),
        etag: tea.etag.clone(),
        ..changes_to(id)
    };
    let answered = try_update(&app.catalog, update_request(same.clone(), &["*"]))
        .await
        .unwrap();
    assert_eq!(answered, tea, "the same etag and update_time");
    let implied = try_update(&app.catalog, update_request(same, &[])).await.unwrap();
    assert_eq!(implied, tea);
    assert_eq!(get_product(&app, id).await, tea);
    assert_eq!(audit_actions(&app).await, ["PRODUCT_CREATED"], "no audit row");
}

#[tokio::test]
async fn update_product_is_idempotent_per_request_id() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    let price = proto::Product {
        price: Some(money("EUR", 5, 0)),
        etag: tea.etag.clone(),
        ..changes_to(id)
    };
    let mut request = update_request(price, &["price"]);
    request.request_id = request_id();
    let first = try_update(&app.catalog, request.clone()).await.unwrap();
    assert_eq!(first.price, Some(money("EUR", 5, 0)));
    // Somebody else changes the price again; then the retry arrives: it
    // gets the first answer (its etag is stale by now) and changes nothing.
    update_price(&app.catalog, id, (6, 0, "EUR")).await;
    assert_eq!(try_update(&app.catalog, request.clone()).await.unwrap(), first);
    assert_eq!(get_product(&app, id).await.price, Some(money("EUR", 6, 0)));
    let updates = ["PRODUCT_CREATED", "PRODUCT_UPDATED", "PRODUCT_UPDATED"];
    assert_eq!(audit_actions(&app).await, updates);

    let mut different = request.clone();
    different.product.as_mut().unwrap().price = Some(money("EUR", 7, 0));
    let status = try_update(&app.catalog, different).await.unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    let expected = format!("REQUEST_ID request_id/{}", request.request_id);
    assert_eq!(precondition_violations(&details), [expected]);
    assert_eq!(get_product(&app, id).await.price, Some(money("EUR", 6, 0)));
    assert_eq!(audit_actions(&app).await, updates);
}

#[tokio::test]
async fn a_refused_update_does_not_use_up_its_request_id() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    let current = update_price(&app.catalog, id, (5, 0, "EUR")).await;
    let key = request_id();
    let rename = |etag: &str| {
        let product = proto::Product {
            name: "Green tea".into(),
            etag: etag.to_owned(),
            ..changes_to(id)
        };
        proto::UpdateProductRequest {
            request_id: key.clone(),
            ..update_request(product, &["name"])
        }
    };
    for _ in 0..2 {
        let status = try_update(&app.catalog, rename(&tea.etag)).await.unwrap_err();
        assert_stale_etag(&status, id);
    }
    let renamed = try_update(&app.catalog, rename(&current.etag))
        .await
        .expect("the key was not used by the refusals");
    assert_eq!(renamed.name, "Green tea");
    assert_eq!(try_update(&app.catalog, rename(&current.etag)).await.unwrap(), renamed);
}

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
