//! Absurd numbers and forged page tokens: quantities, stock, prices and page
//! sizes at the ends of their types, the largest order the API allows (which
//! must still be priced exactly), and page tokens that the server did not
//! issue for the listing they are sent to.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD},
};

use super::{stored, world};
use crate::{
    api_calls::{get_order, history, list, place_order, product_id, try_create_order, try_restock},
    app::spawn_app,
    assertions::assert_invalid_fields,
    direct_sql::execute_sql,
    requests::{money, order_request, product_request},
};

#[tokio::test]
async fn absurd_quantities_stock_and_prices_name_their_field() {
    let app = spawn_app().await;
    let ids = [product_id(&app, "A", 5).await, product_id(&app, "B", 5).await];
    let world = world(&app).await;
    let before = stored(&app, &world).await;
    let lines = [(&ids[0], i32::MIN), (&ids[1], i32::MAX), (&world.product_id, 0)];
    let status = try_create_order(&app, order_request("bob", &lines.map(|(id, q)| (id.as_str(), q)))).await;
    let fields = [0, 1, 2].map(|i| format!("line_items[{i}].quantity"));
    assert_invalid_fields(&status.unwrap_err(), &fields);
    let status = try_create_order(&app, order_request("bob", &[(&world.product_id, -1)])).await;
    assert_invalid_fields(&status.unwrap_err(), &["line_items[0].quantity"]);
    assert_invalid_fields(
        &try_restock(&app, &world.product_id, i64::MIN, "").await.unwrap_err(),
        &["quantity"],
    );
    let prices = [
        (money("EUR", i64::MAX, 999_999_999), "price.units"),
        (money("EUR", 1_000_000_000_000, 1), "price.units"),
        (money("EUR", i64::MIN, -999_999_999), "price"),
        (money("EUR", 0, i32::MAX), "price.nanos"),
        (money("EUR", 0, i32::MIN), "price.nanos"),
        (money("EUR", i64::MAX, i32::MIN), "price.nanos"),
    ];
    for (price, field) in prices {
        let mut request = product_request("ABSURD", (1, 0, "EUR"), 1);
        request.price = Some(price);
        let status = app.catalog.clone().create_product(request).await.unwrap_err();
        assert_invalid_fields(&status, &[field]);
    }
    for stock in [i64::MIN, -1, i64::MAX] {
        let request = product_request("ABSURD", (1, 0, "EUR"), stock);
        let status = app.catalog.clone().create_product(request).await.unwrap_err();
        assert_invalid_fields(&status, &["stock"]);
    }
    assert_eq!(stored(&app, &world).await, before);
}

#[tokio::test]
async fn absurd_page_sizes_are_refused_or_capped() {
    let app = spawn_app().await;
    let world = world(&app).await;
    for size in [i32::MIN, -1] {
        assert_invalid_fields(&list(&app, size, "").await.unwrap_err(), &["page_size"]);
        assert_invalid_fields(&history(&app, "alice", size, "").await.unwrap_err(), &["page_size"]);
    }
    let page = history(&app, "alice", i32::MAX, "").await.unwrap();
    assert_eq!((page.orders.len(), page.next_page_token.as_str()), (1, ""));
    assert_eq!(page.orders[0].order_id, world.order_id);
}

#[tokio::test]
async fn the_largest_order_the_api_allows_is_priced_exactly() {
    let app = spawn_app().await;
    // 100 products at the highest price less one nano, 1000 in stock each.
    execute_sql(
        &app,
        "INSERT INTO products (id, sku, name, currency_code, price_units, price_nanos, stock) \
         SELECT gen_random_uuid(), 'MAX-' || lpad(i::text, 3, '0'), 'Max ' || i, 'EUR', 999999999999, 999999999, 1000 \
         FROM generate_series(1, 100) AS i",
    )
    .await;
    let products = list(&app, 100, "").await.unwrap().products;
    let lines: Vec<(&str, i32)> = products.iter().map(|p| (p.product_id.as_str(), 1000)).collect();
    let order = try_create_order(&app, order_request("whale", &lines)).await.unwrap();
    assert!((order.line_items.iter()).all(|l| l.line_total == Some(money("EUR", 999_999_999_999_999, 999_999_000))));
    assert_eq!(order.total, Some(money("EUR", 99_999_999_999_999_999, 999_900_000)));
    assert_eq!(get_order(&app, &order.order_id).await, order);
    let stocks = list(&app, 100, "").await.unwrap().products.into_iter().map(|p| p.stock);
    assert!(stocks.into_iter().all(|stock| stock == 0));
}

/// Tokens that are not what the server issued for this listing: every
/// truncation, a flipped bit in each byte, other encodings of the same
/// bytes, and garbage of every length up to what fits in a message.
fn forgeries(token: &str) -> Vec<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token).unwrap();
    let mut forged: Vec<String> = (1..token.len()).map(|n| token[..n].to_owned()).collect();
    forged.extend((0..bytes.len()).map(|i| {
        let mut flipped = bytes.clone();
        flipped[i] ^= 1 << (i % 8);
        URL_SAFE_NO_PAD.encode(flipped)
    }));
    let mut signed_by_nobody = vec![1u8];
    signed_by_nobody.extend([0; 40]);
    forged.extend([
        format!("{token}="),
        format!(" {token}"),
        format!("{token}\n"),
        format!("\u{200f}{token}"),
        format!("{token}{token}"),
        STANDARD.encode(&bytes),
        URL_SAFE.encode(&bytes),
        URL_SAFE_NO_PAD.encode(signed_by_nobody),
        "A".repeat(512),
        "A".repeat(513),
        "A".repeat(900_000),
        "\u{0}".into(),
        "🦀".into(),
        "%".into(),
        "'; DROP TABLE orders; --".into(),
    ]);
    forged.retain(|f| f != token);
    forged
}

#[tokio::test]
async fn forged_page_tokens_are_refused_for_both_listings() {
    let app = spawn_app().await;
    let world = world(&app).await;
    product_id(&app, "TEA-2", 1).await;
    place_order(&app, "alice", &[(&world.product_id, 1)]).await;
    let product_token = list(&app, 1, "").await.unwrap().next_page_token;
    let history_token = history(&app, "alice", 1, "").await.unwrap().next_page_token;
    let before = stored(&app, &world).await;
    for bad in forgeries(&product_token).iter().chain([&history_token]) {
        assert_invalid_fields(&list(&app, 1, bad).await.unwrap_err(), &["page_token"]);
    }
    for bad in forgeries(&history_token).iter().chain([&product_token]) {
        assert_invalid_fields(&history(&app, "alice", 1, bad).await.unwrap_err(), &["page_token"]);
    }
    // Alice's token, for customers that only look like her.
    for other in ["Alice", "alice\u{200f}", "alic\u{435}", "alice%", "_lice"] {
        let status = history(&app, other, 1, &history_token).await.unwrap_err();
        assert_invalid_fields(&status, &["page_token"]);
    }
    assert_eq!(stored(&app, &world).await, before);
    assert_eq!(list(&app, 1, &product_token).await.unwrap().products[0].sku, "TEA-2");
    assert_eq!(
        history(&app, "alice", 1, &history_token).await.unwrap().orders[0].order_id,
        world.order_id
    );
}
