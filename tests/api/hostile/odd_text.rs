//! Odd but valid text: stacked combining marks, right-to-left marks, emoji,
//! SQL and LIKE wildcards in names, descriptions, addresses, cancel reasons
//! and customer ids must come back byte for byte; SKUs are plain ASCII, so
//! the same text is refused there.

use crate::{
    api_calls::{
        cancel, create_product, get_order, get_product, history, list, place_order, product_id, stock_of,
        try_create_order,
    },
    app::spawn_app,
    assertions::assert_invalid_fields,
    direct_sql::count_rows,
    requests::{edit_address, order_request, product_request},
};

/// Valid text that is odd: stacked combining marks, a right-to-left
/// override, Hebrew with a right-to-left mark, emoji joined by zero-width
/// joiners, a byte order mark and a noncharacter, and SQL with quotes,
/// comments, LIKE wildcards and backslashes.
const ODD_TEXT: [&str; 8] = [
    "e\u{301}\u{302}\u{303}\u{304}",
    "\u{202e}gnp.exe\u{202c}",
    "\u{5e9}\u{5dc}\u{5d5}\u{5dd} \u{200f}(mixed)",
    "👩\u{200d}👩\u{200d}👧\u{200d}👦 🏳\u{fe0f}\u{200d}🌈",
    "\u{feff}BOM \u{ffff}",
    "'; DROP TABLE orders; --",
    "Robert\"); DELETE FROM products WHERE ('1'='1",
    "100% _real_ \\ back\\slash \\%",
];

#[tokio::test]
async fn odd_text_in_product_names_and_descriptions_round_trips_byte_for_byte() {
    let app = spawn_app().await;
    for (i, odd) in ODD_TEXT.into_iter().enumerate() {
        let mut request = product_request(&format!("ODD-{i}"), (1, 0, "EUR"), 5);
        (request.name, request.description) = (odd.to_owned(), ODD_TEXT.concat());
        let response = app.catalog.clone().create_product(request).await.unwrap();
        let product = response.into_inner().product.unwrap();
        let texts = (product.name.as_str(), product.description.as_str());
        assert_eq!(texts, (odd, ODD_TEXT.concat().as_str()));
        assert_eq!(get_product(&app, &product.product_id).await, product);
    }
    let listed = list(&app, 0, "").await.unwrap().products;
    assert_eq!(listed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ODD_TEXT);
    assert_eq!(count_rows(&app, "products").await, 8, "the table is still there");
}

#[tokio::test]
async fn odd_text_in_addresses_and_cancel_reasons_round_trips_byte_for_byte() {
    let app = spawn_app().await;
    let product_id = product_id(&app, "TEA", 5).await;
    let mut request = order_request("alice", &[(&product_id, 1)]);
    let address = edit_address(&mut request);
    [address.recipient, address.line1, address.line2] = [ODD_TEXT[0], ODD_TEXT[1], ODD_TEXT[2]].map(String::from);
    [address.city, address.region] = [ODD_TEXT[3], ODD_TEXT[5]].map(String::from);
    address.postal_code = "%_\\'--".into();
    let sent = request.shipping_address.clone();
    let order = try_create_order(&app, request).await.unwrap();
    assert_eq!(order.shipping_address, sent);
    let reason = ODD_TEXT.join(" ");
    let cancelled = cancel(&app, &order.order_id, "alice", &reason).await.unwrap();
    assert_eq!((cancelled.cancel_reason, cancelled.shipping_address), (reason, sent));
    let listed = history(&app, "alice", 0, "").await.unwrap().orders;
    assert_eq!(listed, [get_order(&app, &order.order_id).await]);
    let counts = [
        count_rows(&app, "orders").await,
        count_rows(&app, "order_line_items").await,
    ];
    assert_eq!(counts, [1, 1], "the tables are still there");
    assert_eq!(stock_of(&app, &product_id).await, 5);
}

/// Valid customer ids that look like SQL, LIKE patterns, escapes, or that
/// are 128 characters of several bytes each.
fn odd_customer_ids() -> Vec<String> {
    let ids = [
        "alice",
        "%",
        "_",
        "\\",
        "a%",
        "%e",
        "';DROP/**/TABLE/**/orders;--",
        "🦀",
        "e\u{301}",
        "\u{200f}alice",
        &"🦀".repeat(128),
        &"e\u{301}".repeat(64),
    ];
    ids.map(String::from).to_vec()
}

#[tokio::test]
async fn customer_ids_are_opaque_keys_even_when_they_look_like_sql() {
    let app = spawn_app().await;
    let product_id = product_id(&app, "TEA", 100).await;
    let customers = odd_customer_ids();
    let mut placed = Vec::new();
    for customer in &customers {
        let order = place_order(&app, customer, &[(&product_id, 1)]).await;
        assert_eq!(order.customer_id.as_bytes(), customer.as_bytes());
        placed.push(order);
    }
    for (customer, order) in customers.iter().zip(&placed) {
        let page = history(&app, customer, 0, "").await.unwrap();
        assert_eq!(
            page.orders,
            std::slice::from_ref(order),
            "{customer:?} sees exactly its own order"
        );
    }
    // Spaces and a 129th character make an invalid key, not an empty history.
    let invalid: [&str; 3] = ["'; DROP TABLE orders; --", &"🦀".repeat(129), &"e\u{301}".repeat(65)];
    for customer in invalid {
        let status = try_create_order(&app, order_request(customer, &[(&product_id, 1)]))
            .await
            .unwrap_err();
        assert_invalid_fields(&status, &["customer_id"]);
        assert_invalid_fields(&history(&app, customer, 0, "").await.unwrap_err(), &["customer_id"]);
    }
    assert_eq!(count_rows(&app, "orders").await, customers.len() as i64);
    assert_eq!(stock_of(&app, &product_id).await, 100 - customers.len() as i64);
}

#[tokio::test]
async fn skus_are_plain_ascii_so_emoji_and_sql_are_refused() {
    let app = spawn_app().await;
    let refused = [
        "🍵",
        "TEA🍵",
        "'; DROP TABLE products; --",
        "%",
        "TEA%",
        "a\\b",
        "ＴＥＡ",
        "e\u{301}",
        "TEA\u{0}",
    ];
    for sku in refused {
        let mut request = product_request("TEA", (1, 0, "EUR"), 1);
        request.sku = sku.to_owned();
        let status = app.catalog.clone().create_product(request).await.unwrap_err();
        assert_invalid_fields(&status, &["sku"]);
    }
    let accepted = ["_", "__", "-", "-_.", ".", "a_b"];
    for sku in accepted {
        assert_eq!(create_product(&app, sku, (1, 0, "EUR"), 1).await.sku, sku);
    }
    // Walking one product per page puts each of these SKUs in a cursor.
    let (mut seen, mut token) = (Vec::new(), String::new());
    loop {
        let page = list(&app, 1, &token).await.unwrap();
        seen.extend(page.products.into_iter().map(|p| p.sku));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["-", "-_.", ".", "_", "__", "a_b"]);
    assert_eq!(count_rows(&app, "products").await, accepted.len() as i64);
}
