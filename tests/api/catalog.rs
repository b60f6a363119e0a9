//! CatalogService: CreateProduct (echo, duplicate SKU, validation of every
//! field, idempotency), GetProduct, ListProducts (order, page sizes, walking
//! every page, forged tokens) and RestockProduct (exact stock, limits,
//! idempotency).

use orders::proto::{self, CreateProductRequest};
use tonic::Code;

use crate::{
    api_calls::{create_product, get_product, list, product_id, stock_of, try_restock},
    app::{TestApp, spawn_app},
    assertions::{assert_error, assert_invalid_fields, assert_not_found, bad_fields, precondition_violations, time},
    direct_sql::{count_rows, execute_sql},
    requests::{keyed_product_request, money, product_request, request_id},
    timing::within,
};

const PRODUCT: &str = "orders.v1.Product";

#[tokio::test]
async fn create_product_echoes_every_field() {
    let app = spawn_app().await;
    let mut request = product_request("TEA-GREEN-100G", (4, 990_000_000, "EUR"), 17);
    request.name = "  Green tea  ".into();
    let product = app.catalog.clone().create_product(request).await.unwrap().into_inner();
    let product = product.product.unwrap();
    uuid::Uuid::parse_str(&product.product_id).expect("product_id is a UUID");
    assert_eq!(product.sku, "TEA-GREEN-100G");
    assert_eq!(product.name, "Green tea", "the name is trimmed");
    assert_eq!(product.description, "The description of TEA-GREEN-100G");
    assert_eq!(product.price, Some(money("EUR", 4, 990_000_000)));
    assert_eq!(product.stock, 17);
    let created = product.create_time.expect("create_time");
    assert!(created.seconds > 1_600_000_000);
    assert_eq!(product.update_time, Some(created));
    assert_eq!(get_product(&app, &product.product_id).await, product);
    assert_eq!(count_rows(&app, "products").await, 1);
}

#[tokio::test]
async fn a_duplicate_sku_is_already_exists_and_stores_nothing() {
    let app = spawn_app().await;
    create_product(&app, "SKU-1", (1, 0, "EUR"), 1).await;
    let again = product_request("SKU-1", (2, 0, "USD"), 5);
    let status = app.catalog.clone().create_product(again).await.unwrap_err();
    let details = assert_error(&status, Code::AlreadyExists, "SKU_ALREADY_EXISTS");
    assert_eq!(details.resource_info().unwrap().resource_name, "SKU-1");
    assert_eq!(count_rows(&app, "products").await, 1);
    // SKUs are compared case-sensitively.
    create_product(&app, "sku-1", (1, 0, "EUR"), 1).await;
    assert_eq!(count_rows(&app, "products").await, 2);
}

type Edit = fn(&mut CreateProductRequest);

#[tokio::test]
async fn each_malformed_field_is_named_in_bad_request() {
    let app = spawn_app().await;
    let cases: Vec<(Edit, &[&str])> = vec![
        (|r| r.name = String::new(), &["name"]),
        (|r| r.name = "   ".into(), &["name"]),
        (|r| r.name = "é".repeat(201), &["name"]),
        (|r| r.name = "Te\u{7}a".into(), &["name"]),
        (|r| r.description = "d".repeat(2001), &["description"]),
        (|r| r.sku = String::new(), &["sku"]),
        (|r| r.sku = "tea green".into(), &["sku"]),
        (|r| r.sku = "tea/green".into(), &["sku"]),
        (|r| r.sku = "TÉ-1".into(), &["sku"]),
        (|r| r.sku = "S".repeat(65), &["sku"]),
        (|r| r.price = None, &["price"]),
        (|r| r.price = Some(money("EUR", 0, 0)), &["price"]),
        (|r| r.price = Some(money("EUR", -1, 0)), &["price"]),
        (|r| r.price = Some(money("EUR", -1, -500_000_000)), &["price"]),
        (|r| r.price = Some(money("XXY", 1, 0)), &["price.currency_code"]),
        (|r| r.price = Some(money("eur", 1, 0)), &["price.currency_code"]),
        (|r| r.price = Some(money("", 1, 0)), &["price.currency_code"]),
        (|r| r.price = Some(money("EUR", 1, 1_000_000_000)), &["price.nanos"]),
        (|r| r.price = Some(money("EUR", 0, -1_000_000_000)), &["price.nanos"]),
        (|r| r.price = Some(money("EUR", 1, -5)), &["price.nanos"]),
        (|r| r.price = Some(money("EUR", -1, 5)), &["price.nanos"]),
        (|r| r.price = Some(money("EUR", 1_000_000_000_001, 0)), &["price.units"]),
        (|r| r.stock = -1, &["stock"]),
        (|r| r.stock = 1_000_000_001, &["stock"]),
        (|r| r.request_id = "not-a-uuid".into(), &["request_id"]),
    ];
    for (i, (edit, fields)) in cases.into_iter().enumerate() {
        let mut request = product_request(&format!("SKU-{i}"), (1, 0, "EUR"), 1);
        edit(&mut request);
        let status = app.catalog.clone().create_product(request).await.unwrap_err();
        assert_invalid_fields(&status, fields);
    }
    assert_eq!(count_rows(&app, "products").await, 0);
    // The boundaries themselves are accepted.
    let mut request = product_request(&"S".repeat(64), (1_000_000_000_000, 0, "EUR"), 1_000_000_000);
    request.name = "é".repeat(200);
    request.description = "d".repeat(2000);
    app.catalog
        .clone()
        .create_product(request)
        .await
        .expect("boundaries are valid");
}

#[tokio::test]
async fn several_bad_fields_are_all_reported_at_once() {
    let app = spawn_app().await;
    let request = CreateProductRequest {
        sku: "bad sku".into(),
        name: String::new(),
        description: String::new(),
        price: Some(money("eur", 1, 0)),
        stock: -3,
        request_id: "nope".into(),
    };
    let status = app.catalog.clone().create_product(request).await.unwrap_err();
    assert_invalid_fields(&status, &["sku", "name", "price.currency_code", "stock", "request_id"]);
}

#[tokio::test]
async fn get_product_unknown_or_malformed() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let get = |id: &str| {
        let mut client = app.catalog.clone();
        let request = proto::GetProductRequest { product_id: id.into() };
        async move { client.get_product(request).await.unwrap_err() }
    };
    assert_not_found(&get(&unknown).await, "PRODUCT_NOT_FOUND", PRODUCT, &unknown);
    assert_invalid_fields(&get("42").await, &["product_id"]);
    assert_invalid_fields(&get("").await, &["product_id"]);
}

/// Inserts `n` products `BULK-0001`… straight into the table, for volume.
async fn insert_products(app: &TestApp, n: u32) {
    execute_sql(
        app,
        &format!(
            "INSERT INTO products (id, sku, name, currency_code, price_units, price_nanos, stock) \
             SELECT gen_random_uuid(), 'BULK-' || lpad(i::text, 4, '0'), 'Bulk ' || i, 'EUR', 1, 0, 5 \
             FROM generate_series(1, {n}) AS i"
        ),
    )
    .await;
}

fn skus(page: &proto::ListProductsResponse) -> Vec<String> {
    page.products.iter().map(|p| p.sku.clone()).collect()
}

#[tokio::test]
async fn list_products_is_in_sku_order() {
    let app = spawn_app().await;
    for sku in ["b-2", "B-2", "A.1", "a_1", "A-1", "0-9", "Z"] {
        create_product(&app, sku, (1, 0, "EUR"), 1).await;
    }
    let page = list(&app, 0, "").await.unwrap();
    // Byte order: SKUs are ASCII and compared case-sensitively.
    assert_eq!(skus(&page), ["0-9", "A-1", "A.1", "B-2", "Z", "a_1", "b-2"]);
    assert_eq!(page.next_page_token, "");
    assert!(
        page.products
            .iter()
            .all(|p| p.price.is_some() && p.create_time.is_some())
    );
}

#[tokio::test]
async fn list_page_size_defaults_to_20_and_is_capped_at_100() {
    let app = spawn_app().await;
    insert_products(&app, 105).await;
    let default = list(&app, 0, "").await.unwrap();
    assert_eq!(default.products.len(), 20);
    assert_eq!(default.products[19].sku, "BULK-0020");
    assert_ne!(default.next_page_token, "");
    let capped = list(&app, 1000, "").await.unwrap();
    assert_eq!(capped.products.len(), 100);
    let rest = list(&app, i32::MAX, &capped.next_page_token).await.unwrap();
    assert_eq!(
        skus(&rest),
        (101..=105).map(|i| format!("BULK-{i:04}")).collect::<Vec<_>>()
    );
    assert_eq!(rest.next_page_token, "");
    assert_invalid_fields(&list(&app, -1, "").await.unwrap_err(), &["page_size"]);
}

#[tokio::test]
async fn walking_every_page_yields_each_product_once() {
    let app = spawn_app().await;
    insert_products(&app, 23).await;
    let (mut seen, mut sizes, mut token) = (Vec::new(), Vec::new(), String::new());
    loop {
        let page = within(10, list(&app, 5, &token)).await.unwrap();
        sizes.push(page.products.len());
        seen.extend(skus(&page));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(sizes, [5, 5, 5, 5, 3]);
    assert_eq!(seen, (1..=23).map(|i| format!("BULK-{i:04}")).collect::<Vec<_>>());
    // A page that ends exactly at the last product has no token.
    let exact = list(&app, 23, "").await.unwrap();
    assert_eq!((exact.products.len(), exact.next_page_token.as_str()), (23, ""));
}

#[tokio::test]
async fn a_forged_page_token_is_invalid_argument() {
    let app = spawn_app().await;
    insert_products(&app, 3).await;
    let token = list(&app, 1, "").await.unwrap().next_page_token;
    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    let flipped: String = chars.into_iter().collect();
    for bad in [
        flipped.as_str(),
        &token[..token.len() - 3],
        "garbage!",
        "AAAA",
        &"A".repeat(600),
    ] {
        assert_invalid_fields(&list(&app, 1, bad).await.unwrap_err(), &["page_token"]);
    }
    assert_invalid_fields(
        &list(&app, -5, "garbage").await.unwrap_err(),
        &["page_size", "page_token"],
    );
    assert_eq!(list(&app, 1, &token).await.unwrap().products[0].sku, "BULK-0002");
}

#[tokio::test]
async fn restock_adds_exactly_the_quantity() {
    let app = spawn_app().await;
    let id = product_id(&app, "SKU-1", 7).await;
    let restocked = try_restock(&app, &id, 35, "").await.unwrap();
    assert_eq!(restocked.stock, 42);
    assert!(time(restocked.update_time) > time(restocked.create_time));
    assert_eq!(stock_of(&app, &id).await, 42);
    assert_eq!(try_restock(&app, &id, 1, "").await.unwrap().stock, 43);
}

#[tokio::test]
async fn restock_refuses_bad_quantities_unknown_products_and_the_limit() {
    let app = spawn_app().await;
    let id = product_id(&app, "SKU-1", 999_999_990).await;
    for quantity in [0, -5, 1_000_000_001, i64::MAX] {
        assert_invalid_fields(&try_restock(&app, &id, quantity, "").await.unwrap_err(), &["quantity"]);
    }
    assert_invalid_fields(&try_restock(&app, "nope", 1, "").await.unwrap_err(), &["product_id"]);
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_not_found(
        &try_restock(&app, &unknown, 1, "").await.unwrap_err(),
        "PRODUCT_NOT_FOUND",
        PRODUCT,
        &unknown,
    );
    let status = try_restock(&app, &id, 11, "").await.unwrap_err();
    let details = assert_error(&status, Code::OutOfRange, "STOCK_LIMIT_EXCEEDED");
    assert_eq!(bad_fields(&details), ["quantity"]);
    assert_eq!(stock_of(&app, &id).await, 999_999_990);
    assert_eq!(try_restock(&app, &id, 10, "").await.unwrap().stock, 1_000_000_000);
}

#[tokio::test]
async fn create_product_is_idempotent_per_request_id() {
    let app = spawn_app().await;
    let request = keyed_product_request("SKU-1", (2, 500_000_000, "EUR"), 3);
    let create = async || {
        app.catalog
            .clone()
            .create_product(request.clone())
            .await
            .unwrap()
            .into_inner()
    };
    let first = create().await;
    let again = create().await;
    assert_eq!(again, first, "the retry gets the original response");
    assert_eq!(count_rows(&app, "products").await, 1);

    let mut different = request.clone();
    different.sku = "SKU-2".into();
    let status = app.catalog.clone().create_product(different).await.unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    let expected = format!("REQUEST_ID request_id/{}", request.request_id);
    assert_eq!(precondition_violations(&details), [expected]);
    assert_eq!(count_rows(&app, "products").await, 1);
    assert_eq!(list(&app, 0, "").await.unwrap().products, [first.product.unwrap()]);
}

#[tokio::test]
async fn restock_is_idempotent_per_request_id() {
    let app = spawn_app().await;
    let id = product_id(&app, "SKU-1", 10).await;
    let key = request_id();
    let first = try_restock(&app, &id, 5, &key).await.unwrap();
    assert_eq!(first.stock, 15);
    assert_eq!(
        try_restock(&app, &id, 5, &key).await.unwrap(),
        first,
        "replayed, not re-applied"
    );
    assert_eq!(stock_of(&app, &id).await, 15);
    let status = try_restock(&app, &id, 6, &key).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    assert_eq!(stock_of(&app, &id).await, 15);
    assert_invalid_fields(&try_restock(&app, &id, 5, "12345").await.unwrap_err(), &["request_id"]);
    assert_eq!(stock_of(&app, &id).await, 15);
}
