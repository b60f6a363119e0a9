//! What guards a change: the etag (and stock movements that leave it
//! alone), updates that change nothing, idempotency.

use super::*;

/// UpdateProduct of `product`'s price to 5.00 EUR, at the etag it was read at.
fn to_five_euros(product: &proto::Product) -> proto::UpdateProductRequest {
    let price = proto::Product {
        price: Some(money("EUR", 5, 0)),
        etag: product.etag.clone(),
        ..changes_to(&product.product_id)
    };
    update_request(price, &["price"])
}

#[tokio::test]
async fn a_stale_etag_is_aborted_and_changes_nothing() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let id = tea.product_id.as_str();
    // Two admins read the product; the first changes the price.
    let repriced = try_update(&app.catalog, to_five_euros(&tea)).await.unwrap();
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
    let repriced = try_update(&app.catalog, to_five_euros(&tea)).await.unwrap();
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
    let mut request = to_five_euros(&tea);
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
