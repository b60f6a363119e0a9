use super::*;

fn request(paths: &[&str]) -> proto::UpdateProductRequest {
    proto::UpdateProductRequest {
        product: Some(proto::Product {
            product_id: Uuid::nil().to_string(),
            name: " Espresso Machine ".into(),
            price: Some(proto::Money {
                currency_code: "EUR".into(),
                units: 199,
                nanos: 0,
            }),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
        request_id: String::new(),
    }
}

fn violated_fields(error: ApiError) -> Vec<(String, String)> {
    match error {
        ApiError::InvalidArgument { violations, .. } => {
            violations.into_iter().map(|v| (v.field, v.description)).collect()
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn the_mask_picks_the_fields_that_change() {
    let update = ProductUpdate::try_from(&request(&["name"])).unwrap();
    assert_eq!(update.details.name.as_deref(), Some("Espresso Machine"));
    assert_eq!((update.details.description, update.details.price), (None, None));
    assert_eq!(update.etag, None);
}

#[test]
fn a_star_changes_all_three_and_checks_each() {
    // The description is empty, which is a valid description: it is cleared.
    let update = ProductUpdate::try_from(&request(&["*"])).unwrap();
    assert_eq!(update.details.description.as_deref(), Some(""));
    assert_eq!(update.details.price.unwrap().units(), 199);
}

#[test]
fn an_empty_mask_changes_what_is_set() {
    let update = ProductUpdate::try_from(&request(&[])).unwrap();
    assert!(update.details.name.is_some() && update.details.price.is_some());
    assert_eq!(update.details.description, None);
    let mut nothing = request(&[]);
    nothing.product = Some(proto::Product {
        product_id: Uuid::nil().to_string(),
        ..Default::default()
    });
    let fields = violated_fields(ProductUpdate::try_from(&nothing).unwrap_err());
    assert_eq!(fields[0].0, "update_mask");
}

#[test]
fn immutable_unknown_and_nested_paths_are_refused_with_their_reason() {
    for (path, says) in [
        ("sku", "cannot change"),
        ("stock", "cannot change"),
        ("etag", "cannot change"),
        ("colour", "not a field of Product"),
        ("price.units", "change the whole price"),
    ] {
        let fields = violated_fields(ProductUpdate::try_from(&request(&["name", path])).unwrap_err());
        assert_eq!(fields.len(), 1, "{path}");
        assert_eq!(fields[0].0, "update_mask");
        assert!(fields[0].1.contains(says), "{path}: {}", fields[0].1);
    }
    let fields = violated_fields(ProductUpdate::try_from(&request(&["*", "name"])).unwrap_err());
    assert!(fields[0].1.contains("only path"));
}

#[test]
fn named_fields_are_checked_like_a_new_product() {
    let mut r = request(&["name", "price"]);
    let product = r.product.as_mut().unwrap();
    product.name = "  ".into();
    product.price.as_mut().unwrap().units = -1;
    let fields: Vec<_> = violated_fields(ProductUpdate::try_from(&r).unwrap_err())
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    assert_eq!(fields, ["product.name", "product.price"]);
}

#[test]
fn etags_differ_by_product_and_revision_and_are_short() {
    let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
    assert_eq!(etag(a, 1), etag(a, 1));
    assert_ne!(etag(a, 1), etag(a, 2));
    assert_ne!(etag(a, 1), etag(b, 1));
    assert_eq!(etag(a, 1).len(), 16);
    assert!(ArchiveChange::parse(true, &a.to_string(), &"x".repeat(65), "").is_err());
    let change = ArchiveChange::parse(false, &a.to_string(), "", "").unwrap();
    assert_eq!((change.archive, change.etag), (false, None));
}

#[test]
fn changes_name_only_the_fields_whose_values_differ() {
    let price = |units| Money::from_parts("EUR", units, 0).unwrap();
    let current = Details {
        name: Some("Tea".into()),
        description: Some("Green".into()),
        price: Some(price(4)),
    };
    let same_name_new_price = Details {
        name: Some("Tea".into()),
        price: Some(price(5)),
        ..Default::default()
    };
    let changes = same_name_new_price.changes_to(&current).unwrap();
    assert_eq!(changes.fields, ["price"]);
    assert_eq!(
        changes.before,
        serde_json::json!({"price": {"currency_code": "EUR", "units": 4, "nanos": 0}})
    );
    assert_eq!(changes.after["price"]["units"], 5);
    assert_eq!(current.changes_to(&current), None);
    assert_eq!(
        ChangedValues::archived(true).after,
        serde_json::json!({"archived": true})
    );
}

#[test]
fn a_missing_product_is_named_alone() {
    let mut r = request(&["name"]);
    r.product = None;
    r.request_id = "nope".into();
    let fields: Vec<_> = violated_fields(ProductUpdate::try_from(&r).unwrap_err())
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    assert_eq!(fields, ["product", "request_id"]);
}
