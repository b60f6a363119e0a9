//! Requests that are not even valid messages: too large, or bytes that do
//! not decode as the request type. Both are the caller's fault and must say
//! so (RESOURCE_EXHAUSTED / INVALID_ARGUMENT with an ErrorInfo), never
//! INTERNAL, and store nothing.

use prost::Message;
use tonic::Code;

use crate::{
    app::spawn_app, assertions::assert_error, direct_sql::count_rows, raw_calls::call_raw, requests::product_request,
};

#[tokio::test]
async fn a_request_over_the_size_limit_is_resource_exhausted() {
    let app = spawn_app().await;
    let mut request = product_request("BIG-1", (1, 0, "EUR"), 1);
    request.description = "x".repeat(2 * 1024 * 1024);
    let status = app.catalog.clone().create_product(request).await.unwrap_err();
    assert_error(&status, Code::ResourceExhausted, "MESSAGE_TOO_LARGE");
    assert!(status.message().contains("the limit is: 1048576 bytes"), "{status:?}");
    assert_eq!(count_rows(&app, "products").await, 0);
}

/// Field 1 of `CreateProductRequest` is the string `sku`; sending it as a
/// varint is a wire-type mismatch that no decoder can accept.
#[derive(Clone, PartialEq, prost::Message)]
struct Mistyped {
    #[prost(int64, tag = "1")]
    sku: i64,
}

#[tokio::test]
async fn bytes_that_do_not_decode_are_invalid_argument() {
    let app = spawn_app().await;
    let body = Mistyped { sku: 42 }.encode_to_vec();
    let status = call_raw(&app, "/orders.v1.CatalogService/CreateProduct", body)
        .await
        .unwrap_err();
    assert_error(&status, Code::InvalidArgument, "MALFORMED_MESSAGE");
    assert_eq!(count_rows(&app, "products").await, 0);
}
