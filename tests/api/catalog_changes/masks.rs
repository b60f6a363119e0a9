//! The field mask (named, implied, `*`, and every path that cannot change),
//! the new values checked as in CreateProduct, and unknown products.

use super::*;

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
