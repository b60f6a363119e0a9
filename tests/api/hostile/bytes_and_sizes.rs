//! Messages that are garbage or at the size limits: bytes that decode as
//! no request, a message one byte over the limit, repeated fields with more
//! entries than allowed, and a request with every field wrong at once.

use orders::{
    proto::{self, Method, create_order_request::LineItem},
    startup::MAX_MESSAGE_BYTES,
};
use prost::Message;
use tonic::Code;

use super::{stored, world};
use crate::{
    api_calls::try_create_order,
    app::{spawn_app, spawn_app_with_payments},
    assertions::{assert_error, assert_invalid_fields, bad_fields},
    raw_calls::call_raw,
    requests::{edit_address, order_request, product_request},
    timing::within,
};

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
    // Every method: the payment service's too.
    let app = spawn_app_with_payments(|_| {}).await;
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
    // Every method: the payment service's too.
    let app = spawn_app_with_payments(|_| {}).await;
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
