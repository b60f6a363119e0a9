//! Hostile values in every string field of every request, each time in an
//! otherwise valid request: NUL and control characters, huge strings, and
//! bytes that are not UTF-8. Each must be refused naming that field (or as
//! a malformed message), and change nothing.

use orders::proto::{self, Method};
use prost::Message;
use tonic::{Code, Status};

use super::{World, stored, world};
use crate::{
    app::spawn_app,
    assertions::{assert_error, assert_invalid_fields},
    raw_calls::call_raw,
    requests::{cancel_request, edit_address, order_request, product_request},
};

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
    fields.extend(product_change_fields(world));
    fields
}

/// Every string field of UpdateProduct, ArchiveProduct and UnarchiveProduct.
fn product_change_fields(world: &World) -> Vec<StringField> {
    let product_id = world.product_id.clone();
    let mut product = product_request("COFFEE", (3, 0, "EUR"), 5);
    product.name = "Coffee".into();
    let update = proto::UpdateProductRequest {
        product: Some(proto::Product {
            product_id: product_id.clone(),
            name: product.name,
            description: product.description,
            price: product.price,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["name".into(), "description".into(), "price".into()],
        }),
        request_id: String::new(),
    };
    let update_fields: &[(&str, Accessor<proto::UpdateProductRequest>)] = &[
        ("product.product_id", |r| &mut r.product.as_mut().unwrap().product_id),
        ("product.name", |r| &mut r.product.as_mut().unwrap().name),
        ("product.description", |r| &mut r.product.as_mut().unwrap().description),
        ("product.price.currency_code", |r| {
            &mut r.product.as_mut().unwrap().price.as_mut().unwrap().currency_code
        }),
        ("product.etag", |r| &mut r.product.as_mut().unwrap().etag),
        ("update_mask", |r| &mut r.update_mask.as_mut().unwrap().paths[0]),
        ("request_id", |r| &mut r.request_id),
    ];
    let mut fields = fields_of(Method::UpdateProduct, update, update_fields);
    let archive = proto::ArchiveProductRequest {
        product_id: product_id.clone(),
        ..Default::default()
    };
    let archive_fields: &[(&str, Accessor<proto::ArchiveProductRequest>)] = &[
        ("product_id", |r| &mut r.product_id),
        ("etag", |r| &mut r.etag),
        ("request_id", |r| &mut r.request_id),
    ];
    fields.extend(fields_of(Method::ArchiveProduct, archive, archive_fields));
    let unarchive = proto::UnarchiveProductRequest {
        product_id,
        ..Default::default()
    };
    let unarchive_fields: &[(&str, Accessor<proto::UnarchiveProductRequest>)] = &[
        ("product_id", |r| &mut r.product_id),
        ("etag", |r| &mut r.etag),
        ("request_id", |r| &mut r.request_id),
    ];
    fields.extend(fields_of(Method::UnarchiveProduct, unarchive, unarchive_fields));
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
