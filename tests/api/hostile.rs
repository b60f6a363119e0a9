//! Hostile input through the real server: bytes that are no message, invalid
//! UTF-8, NUL and control characters and huge strings in every string field,
//! absurd numbers, huge repeated fields, forged page tokens, and odd but
//! valid text (combining marks, right-to-left marks, emoji, SQL).
//!
//! Every refusal must be the caller's error with an exact code, reason and
//! field path, never INTERNAL, and must change nothing: the row counts of
//! every table, the product and the order stay as they were. Odd text that
//! is valid must come back byte for byte. (wire.rs has the basic oversized
//! and undecodable cases; these go further.)

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD},
};
use orders::{
    proto::{self, Method, create_order_request::LineItem},
    startup::MAX_MESSAGE_BYTES,
};
use prost::Message;
use tonic::{Code, Status};

use crate::{
    helpers::{TestApp, spawn_app},
    support::*,
};

/// What hostile calls must leave alone: a product with stock taken by one
/// order, placed with a request id so that an idempotency key exists.
struct World {
    product_id: String,
    order_id: String,
}

async fn world(app: &TestApp) -> World {
    let product_id = product_id(app, "TEA", 10).await;
    let mut request = order_request("alice", &[(&product_id, 2)]);
    request.request_id = request_id();
    let order_id = try_create_order(app, request).await.unwrap().order_id;
    World { product_id, order_id }
}

/// Everything a call could change: the row count of every table, the
/// product (stock, update time) and the order (state, update time).
#[derive(Debug, PartialEq)]
struct Stored {
    rows: Vec<(&'static str, i64)>,
    product: proto::Product,
    order: proto::Order,
}

async fn stored(app: &TestApp, world: &World) -> Stored {
    let mut rows = Vec::new();
    for table in ["orders", "order_line_items", "products", "idempotency_keys"] {
        rows.push((table, count_rows(app, table).await));
    }
    Stored {
        rows,
        product: get_product(app, &world.product_id).await,
        order: get_order(app, &world.order_id).await,
    }
}

/// One string field of one RPC's request: the path the server names it by,
/// and a valid request that has any given value in that field.
struct StringField {
    method: Method,
    path: &'static str,
    with: WithValue,
}

/// The encoding of a valid request with the given value in one field.
type WithValue = Box<dyn Fn(&str) -> Vec<u8>>;

type Accessor<R> = fn(&mut R) -> &mut String;

fn fields_of<R: Message + Clone + 'static>(
    method: Method,
    valid: R,
    fields: &[(&'static str, Accessor<R>)],
) -> Vec<StringField> {
    let field = |&(path, get): &(&'static str, Accessor<R>)| {
        let valid = valid.clone();
        let with = move |value: &str| {
            let mut request = valid.clone();
            *get(&mut request) = value.to_owned();
            request.encode_to_vec()
        };
        StringField {
            method,
            path,
            with: Box::new(with),
        }
    };
    fields.iter().map(field).collect()
}

/// Every string field of CreateOrderRequest.
fn create_order_fields(world: &World) -> Vec<StringField> {
    let fields: &[(&str, Accessor<proto::CreateOrderRequest>)] = &[
        ("customer_id", |r| &mut r.customer_id),
        ("line_items[0].product_id", |r| &mut r.line_items[0].product_id),
        ("shipping_address.recipient", |r| &mut edit_address(r).recipient),
        ("shipping_address.line1", |r| &mut edit_address(r).line1),
        ("shipping_address.line2", |r| &mut edit_address(r).line2),
        ("shipping_address.city", |r| &mut edit_address(r).city),
        ("shipping_address.region", |r| &mut edit_address(r).region),
        ("shipping_address.postal_code", |r| &mut edit_address(r).postal_code),
        ("shipping_address.country_code", |r| &mut edit_address(r).country_code),
        ("request_id", |r| &mut r.request_id),
    ];
    let valid = order_request("bob", &[(&world.product_id, 1)]);
    fields_of(Method::CreateOrder, valid, fields)
}

/// Every string field of every OrderService request.
fn order_fields(world: &World) -> Vec<StringField> {
    let order_id = world.order_id.clone();
    let mut fields = create_order_fields(world);
    let get = proto::GetOrderRequest {
        order_id: order_id.clone(),
    };
    fields.extend(fields_of(Method::GetOrder, get, &[("order_id", |r| &mut r.order_id)]));
    let history = proto::GetOrderHistoryRequest {
        customer_id: "alice".into(),
        ..Default::default()
    };
    let history_fields: &[(&str, Accessor<proto::GetOrderHistoryRequest>)] = &[
        ("customer_id", |r| &mut r.customer_id),
        ("page_token", |r| &mut r.page_token),
    ];
    fields.extend(fields_of(Method::GetOrderHistory, history, history_fields));
    let cancel_fields: &[(&str, Accessor<proto::CancelOrderRequest>)] = &[
        ("order_id", |r| &mut r.order_id),
        ("customer_id", |r| &mut r.customer_id),
        ("reason", |r| &mut r.reason),
    ];
    let cancel = cancel_request(&order_id, "alice", "changed my mind");
    fields.extend(fields_of(Method::CancelOrder, cancel, cancel_fields));
    let ship = proto::ShipOrderRequest { order_id };
    fields.extend(fields_of(Method::ShipOrder, ship, &[("order_id", |r| &mut r.order_id)]));
    fields
}

/// Every string field of every CatalogService request.
fn catalog_fields(world: &World) -> Vec<StringField> {
    let product_id = world.product_id.clone();
    let create: &[(&str, Accessor<proto::CreateProductRequest>)] = &[
        ("sku", |r| &mut r.sku),
        ("name", |r| &mut r.name),
        ("description", |r| &mut r.description),
        ("price.currency_code", |r| &mut r.price.as_mut().unwrap().currency_code),
        ("request_id", |r| &mut r.request_id),
    ];
    let mut fields = fields_of(
        Method::CreateProduct,
        product_request("COFFEE", (3, 0, "EUR"), 5),
        create,
    );
    let get = proto::GetProductRequest {
        product_id: product_id.clone(),
    };
    fields.extend(fields_of(
        Method::GetProduct,
        get,
        &[("product_id", |r| &mut r.product_id)],
    ));
    let list = proto::ListProductsRequest::default();
    fields.extend(fields_of(
        Method::ListProducts,
        list,
        &[("page_token", |r| &mut r.page_token)],
    ));
    let restock = proto::RestockProductRequest {
        product_id,
        quantity: 5,
        request_id: String::new(),
    };
    let restock_fields: &[(&str, Accessor<proto::RestockProductRequest>)] = &[
        ("product_id", |r| &mut r.product_id),
        ("request_id", |r| &mut r.request_id),
    ];
    fields.extend(fields_of(Method::RestockProduct, restock, restock_fields));
    fields
}

fn every_string_field(world: &World) -> Vec<StringField> {
    let mut fields = order_fields(world);
    fields.extend(catalog_fields(world));
    fields
}

/// Sends each of `values` in every string field, each time in an otherwise
/// valid request, and asserts that each is refused naming that field (see
/// [`assert_refused_field`]) and that nothing changes.
async fn refused_in_every_field(values: &[&str]) {
    let app = spawn_app().await;
    let world = world(&app).await;
    let before = stored(&app, &world).await;
    for field in every_string_field(&world) {
        for value in values {
            let Err(status) = call_raw(&app, field.method.path(), (field.with)(value)).await else {
                panic!(
                    "{} accepted {:?} in {}",
                    field.method.path(),
                    value.chars().take(40).collect::<String>(),
                    field.path
                );
            };
            let code = status.code();
            assert_eq!(
                code,
                Code::InvalidArgument,
                "{} {}: {status:?}",
                field.method.path(),
                field.path
            );
            assert_refused_field(&status, field.path);
        }
    }
    assert_eq!(stored(&app, &world).await, before);
}

/// Asserts that a refusal names exactly `field` and echoes little of the
/// input: a huge value must not come back in the status, whose headers a
/// client may refuse past 8–16 KiB.
#[track_caller]
fn assert_refused_field(status: &Status, field: &str) {
    assert_invalid_fields(status, &[field]);
    assert!(
        status.message().len() <= 300,
        "{field}: message of {} bytes",
        status.message().len()
    );
    assert!(
        status.details().len() <= 1024,
        "{field}: details of {} bytes",
        status.details().len()
    );
}

#[tokio::test]
async fn nul_and_control_characters_in_any_string_field_name_that_field() {
    refused_in_every_field(&["a\u{0}b", "\u{0}", "\u{1b}[2J", "tab\there", "del\u{7f}"]).await;
}

#[tokio::test]
async fn huge_strings_in_any_string_field_name_that_field() {
    // 800 KB of four-byte characters: under the message limit, over every
    // field's own.
    refused_in_every_field(&[&"🦀".repeat(200_000)]).await;
}

#[tokio::test]
async fn invalid_utf8_in_any_string_field_is_a_malformed_message() {
    let app = spawn_app().await;
    // A lone surrogate (as CESU-8), an overlong '/', a sequence cut short.
    const MARKER: &str = "~UTF8~";
    let not_utf8: [&[u8; 6]; 3] = [b"a\xed\xa0\x80bc", b"a\xc0\xafbcd", b"abcd\xe2\x82"];
    let world = world(&app).await;
    let before = stored(&app, &world).await;
    for field in every_string_field(&world) {
        for bad in not_utf8 {
            let mut body = (field.with)(MARKER);
            let at = (body.windows(MARKER.len()).position(|w| w == MARKER.as_bytes())).expect("the marker is sent");
            body[at..at + MARKER.len()].copy_from_slice(bad);
            let status = call_raw(&app, field.method.path(), body).await.unwrap_err();
            assert_error(&status, Code::InvalidArgument, "MALFORMED_MESSAGE");
        }
    }
    assert_eq!(stored(&app, &world).await, before);
}

/// Bodies that no request message decodes from, whatever its fields.
fn garbage() -> Vec<Vec<u8>> {
    vec![
        vec![0x00],                               // field number 0
        vec![0x0f],                               // wire type 7 does not exist
        vec![0xff; 11],                           // a varint longer than 10 bytes
        vec![0x0a, 0x05, b'a'],                   // a length past the end
        vec![0x7a, 0x80, 0x80, 0x80, 0x80, 0x10], // field 15 of 4 GiB
        vec![0x7b; 100_000],                      // 100,000 nested groups: a stack bomb
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
    ]
}

#[tokio::test]
async fn garbage_bytes_to_every_method_are_a_malformed_message() {
    let app = spawn_app().await;
    let world = world(&app).await;
    let before = stored(&app, &world).await;
    for method in Method::ALL {
        for body in garbage() {
            let status = call_raw(&app, method.path(), body.clone()).await.unwrap_err();
            assert_error(&status, Code::InvalidArgument, "MALFORMED_MESSAGE");
        }
    }
    assert_eq!(stored(&app, &world).await, before);
}

/// A CreateProduct request whose encoding is exactly `len` bytes, padded
/// with a (far too long) description.
fn product_request_of_len(len: usize) -> proto::CreateProductRequest {
    let mut request = product_request("BIG", (1, 0, "EUR"), 1);
    request.description = String::new();
    // The description adds its tag (1 byte) and length (3 bytes here).
    request.description = "d".repeat(len - request.encoded_len() - 4);
    assert_eq!(request.encoded_len(), len);
    request
}

#[tokio::test]
async fn the_size_limit_is_exact_and_holds_for_every_method() {
    let app = spawn_app().await;
    let world = world(&app).await;
    let before = stored(&app, &world).await;
    let create = async |len| {
        let request = product_request_of_len(len);
        app.catalog.clone().create_product(request).await.unwrap_err()
    };
    assert_invalid_fields(&create(MAX_MESSAGE_BYTES).await, &["description"]);
    assert_error(
        &create(MAX_MESSAGE_BYTES + 1).await,
        Code::ResourceExhausted,
        "MESSAGE_TOO_LARGE",
    );
    for method in Method::ALL {
        let status = call_raw(&app, method.path(), vec![0; MAX_MESSAGE_BYTES + 1])
            .await
            .unwrap_err();
        assert_error(&status, Code::ResourceExhausted, "MESSAGE_TOO_LARGE");
    }
    assert_eq!(stored(&app, &world).await, before);
}

#[tokio::test]
async fn huge_repeated_fields_are_refused_by_count_or_by_size() {
    let app = spawn_app().await;
    let world = world(&app).await;
    let before = stored(&app, &world).await;
    let mut request = order_request("bob", &[]);
    let line = |product_id: &str| LineItem {
        product_id: product_id.to_owned(),
        quantity: 1,
    };
    request.line_items = vec![line(""); 100_000];
    assert!(request.encoded_len() < MAX_MESSAGE_BYTES);
    let status = within(10, try_create_order(&app, request.clone())).await.unwrap_err();
    assert_invalid_fields(&status, &["line_items"]);
    // As many lines of the one real product: still refused by their count.
    request.line_items = vec![line(&world.product_id); 20_000];
    assert!(request.encoded_len() < MAX_MESSAGE_BYTES);
    let status = within(10, try_create_order(&app, request.clone())).await.unwrap_err();
    assert_invalid_fields(&status, &["line_items"]);
    request.line_items = vec![line(&world.product_id); 30_000];
    assert!(request.encoded_len() > MAX_MESSAGE_BYTES);
    let status = try_create_order(&app, request).await.unwrap_err();
    assert_error(&status, Code::ResourceExhausted, "MESSAGE_TOO_LARGE");
    assert_eq!(stored(&app, &world).await, before);
}

/// A CreateOrder with every field wrong that can be, and the 206 field
/// paths that are wrong, in the order the server checks them.
fn worst_order() -> (proto::CreateOrderRequest, Vec<String>) {
    let mut request = order_request(&"🦀".repeat(129), &[]);
    let bad_line = LineItem {
        product_id: "🦀".repeat(1000),
        quantity: i32::MIN,
    };
    request.line_items = vec![bad_line; 100];
    *edit_address(&mut request) = proto::Address {
        country_code: "🦀".repeat(1000),
        ..Default::default()
    };
    request.request_id = "🦀".repeat(1000);
    let lines = (0..100).flat_map(|i| {
        [
            format!("line_items[{i}].product_id"),
            format!("line_items[{i}].quantity"),
        ]
    });
    let address = ["recipient", "line1", "city", "country_code"].map(|f| format!("shipping_address.{f}"));
    let fields = (["customer_id".to_owned()].into_iter())
        .chain(lines)
        .chain(address)
        .chain(["request_id".to_owned()])
        .collect();
    (request, fields)
}

#[tokio::test]
async fn the_most_violations_a_request_can_have_reach_the_caller() {
    let app = spawn_app().await;
    let world = world(&app).await;
    let before = stored(&app, &world).await;
    let (request, every) = worst_order();
    let status = try_create_order(&app, request).await.unwrap_err();
    // The message counts them all; the BadRequest names the first ones, in
    // order, as many as fit well inside a client's 8 KiB of headers.
    let total = format!("(and {} more invalid fields)", every.len() - 1);
    assert!(status.message().ends_with(&total), "{status:?}");
    let named = bad_fields(&assert_error(&status, Code::InvalidArgument, "INVALID_FIELDS"));
    assert!(named.len() >= 20 && every.starts_with(&named), "{named:?}");
    let size = status.details().len();
    assert!(size <= 6 * 1024, "details of {size} bytes");
    assert_eq!(stored(&app, &world).await, before);
}

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
