//! Property tests of request parsing and page tokens, on generated input:
//!
//! * every request type, however absurd its content (or its bytes), is
//!   either parsed or refused with INVALID_ARGUMENT / OUT_OF_RANGE whose
//!   `BadRequest` paths name real fields of that request, checked against the
//!   API's own descriptors; nothing panics;
//! * generated valid requests always parse, to exactly the values sent
//!   (free text trimmed, as documented);
//! * page tokens round-trip for any cursor, and every truncation, single bit
//!   flip, other listing or customer, and arbitrary string is refused.
//!
//! Case counts are kept modest so that `cargo test` stays fast.

use std::{collections::HashMap, sync::LazyLock};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use proptest::{collection::vec, option, prelude::*, sample::select};
use prost::Message;
use prost_types::{
    DescriptorProto, FileDescriptorSet,
    field_descriptor_proto::{Label, Type},
};
use uuid::Uuid;

use super::{
    address::Address,
    money::MAX_PRICE_UNITS,
    order::{Cancellation, MAX_LINES, MAX_QUANTITY, NewOrder, RequestedLine},
    page::{Listing, OrderCursor, PageTokenKey, ProductCursor},
    product::{MAX_STOCK, NewProduct, Restock},
    reads::{HistoryPage, ProductPage, parse_id},
    request::{MALFORMED_MESSAGE, decode_and_validate},
    violations::INVALID_FIELDS,
};
use crate::{
    error::ApiError,
    proto::{self, Method},
};

/// The messages and RPCs of the API, read from its own descriptors.
struct Api {
    /// Every message by full name without the leading dot, nested ones too
    /// (`orders.v1.CreateOrderRequest.LineItem`).
    messages: HashMap<String, DescriptorProto>,
    /// The request message of every RPC, by full gRPC path.
    inputs: HashMap<String, String>,
}

static API: LazyLock<Api> = LazyLock::new(|| {
    let set = FileDescriptorSet::decode(proto::FILE_DESCRIPTOR_SET).expect("the descriptor set decodes");
    let mut api = Api {
        messages: HashMap::new(),
        inputs: HashMap::new(),
    };
    for file in set
        .file
        .iter()
        .filter(|f| ["orders.v1", "payments.v1"].contains(&f.package()))
    {
        for message in &file.message_type {
            api.add_message(file.package(), message);
        }
        for service in &file.service {
            for method in &service.method {
                let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                api.inputs
                    .insert(path, method.input_type().trim_start_matches('.').to_owned());
            }
        }
    }
    api
});

impl Api {
    fn add_message(&mut self, scope: &str, message: &DescriptorProto) {
        let name = format!("{scope}.{}", message.name());
        for nested in &message.nested_type {
            self.add_message(&name, nested);
        }
        self.messages.insert(name, message.clone());
    }

    /// True when `path` (e.g. `line_items[3].quantity`) names a field of
    /// `message`, with indexes only on repeated fields and below `lines`.
    fn names_a_field(&self, message: &str, path: &str, lines: usize) -> bool {
        let mut current = self.messages.get(message);
        for segment in path.split('.') {
            let Some(message) = current else { return false }; // a path into a scalar
            let (name, index) = match segment.split_once('[') {
                Some((name, rest)) => (name, rest.strip_suffix(']').and_then(|i| i.parse::<usize>().ok())),
                None => (segment, None),
            };
            let Some(field) = message.field.iter().find(|f| f.name() == name) else {
                return false;
            };
            let indexed_well = match index {
                Some(i) => field.label() == Label::Repeated && i < lines,
                None => !segment.contains('['),
            };
            if !indexed_well {
                return false;
            }
            current = (field.r#type() == Type::Message)
                .then(|| self.messages.get(field.type_name().trim_start_matches('.')))
                .flatten();
        }
        true
    }
}

/// Passes when `result` is success, an undecodable body (no fields to
/// name), or a refusal whose field paths all name real fields of `message`.
fn check_outcome(message: &str, result: Result<(), ApiError>, lines: usize) -> Result<(), TestCaseError> {
    let fields = match result {
        Ok(()) => return Ok(()),
        Err(ApiError::InvalidArgument {
            reason: MALFORMED_MESSAGE,
            violations,
            ..
        }) => {
            prop_assert!(
                violations.is_empty(),
                "an undecodable body has no fields: {violations:?}"
            );
            return Ok(());
        }
        Err(ApiError::InvalidArgument { reason, violations, .. }) => {
            prop_assert_eq!(reason, INVALID_FIELDS);
            violations.into_iter().map(|v| v.field).collect()
        }
        Err(ApiError::OutOfRange { field, .. }) => vec![field.to_owned()],
        Err(other) => return Err(TestCaseError::fail(format!("unexpected {other:?}"))),
    };
    prop_assert!(!fields.is_empty(), "a refusal names at least one field");
    for field in fields {
        prop_assert!(
            API.names_a_field(message, &field, lines),
            "{field} is no field of {message}"
        );
    }
    Ok(())
}

/// The catalog listing, as ListProducts issues its tokens by default.
const PRODUCTS: Listing<'static> = Listing::Products { show_archived: false };

fn key() -> PageTokenKey {
    PageTokenKey::new(vec![9; 32]).unwrap()
}

// Arbitrary input: mostly hostile, with enough near-valid values that the
// parsers get past their first checks.

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        any::<u128>().prop_map(|n| Uuid::from_u128(n).to_string()),
        "[A-Z]{2,3}",
        "[ -~]{0,70}",
        " {0,2}[^\\p{Cc}]{1,60} {0,2}",
        ".{120,2100}",
    ]
}

fn any_i32() -> impl Strategy<Value = i32> {
    prop_oneof![any::<i32>(), -2..=MAX_QUANTITY + 2, Just(i32::MIN), Just(i32::MAX)]
}

fn any_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -2i64..=2,
        MAX_STOCK - 1..=MAX_STOCK + 1,
        MAX_PRICE_UNITS - 1..=MAX_PRICE_UNITS + 1,
        Just(i64::MIN),
        Just(i64::MAX),
    ]
}

fn any_money() -> impl Strategy<Value = proto::Money> {
    let nanos = prop_oneof![any::<i32>(), -1_000_000_000..=1_000_000_000];
    (any_text(), any_i64(), nanos).prop_map(|(currency_code, units, nanos)| proto::Money {
        currency_code,
        units,
        nanos,
    })
}

fn any_address() -> impl Strategy<Value = proto::Address> {
    let lines = (any_text(), any_text(), any_text(), any_text());
    let rest = (any_text(), any_text(), any_text());
    (lines, rest).prop_map(
        |((recipient, line1, line2, city), (region, postal_code, country_code))| proto::Address {
            recipient,
            line1,
            line2,
            city,
            region,
            postal_code,
            country_code,
        },
    )
}

fn any_create_order() -> impl Strategy<Value = proto::CreateOrderRequest> {
    // Ids rather than any text: a hundred long strings per case is slow.
    let product_id = || {
        prop_oneof![
            any::<String>(),
            Just(String::new()),
            uuid_text().prop_map(|(_, text)| text)
        ]
    };
    let line = || {
        (product_id(), any_i32())
            .prop_map(|(product_id, quantity)| proto::create_order_request::LineItem { product_id, quantity })
    };
    // Few lines, or about as many as allowed.
    let lines = prop_oneof![vec(line(), 0..=3), vec(line(), 95..=MAX_LINES + 5)];
    (any_text(), lines, option::of(any_address()), any_text(), any_text()).prop_map(
        |(customer_id, line_items, shipping_address, request_id, customer_email)| proto::CreateOrderRequest {
            customer_id,
            line_items,
            shipping_address,
            request_id,
            customer_email,
            payment_method: String::new(),
        },
    )
}

fn any_create_product() -> impl Strategy<Value = proto::CreateProductRequest> {
    let texts = (any_text(), any_text(), any_text(), any_text());
    (texts, option::of(any_money()), any_i64()).prop_map(|((sku, name, description, request_id), price, stock)| {
        proto::CreateProductRequest {
            sku,
            name,
            description,
            price,
            stock,
            request_id,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn create_order_is_parsed_or_refused_naming_real_fields(r in any_create_order()) {
        let outcome = NewOrder::try_from(&r).map(drop);
        check_outcome("orders.v1.CreateOrderRequest", outcome, r.line_items.len())?;
    }

    #[test]
    fn cancel_order_is_parsed_or_refused_naming_real_fields(
        (order_id, customer_id, reason) in (any_text(), any_text(), any_text())
    ) {
        let r = proto::CancelOrderRequest { order_id, customer_id, reason };
        check_outcome("orders.v1.CancelOrderRequest", Cancellation::try_from(&r).map(drop), 0)?;
    }

    #[test]
    fn create_product_is_parsed_or_refused_naming_real_fields(r in any_create_product()) {
        check_outcome("orders.v1.CreateProductRequest", NewProduct::try_from(&r).map(drop), 0)?;
    }

    #[test]
    fn restock_is_parsed_or_refused_naming_real_fields(
        (product_id, quantity, request_id) in (any_text(), any_i64(), any_text())
    ) {
        let r = proto::RestockProductRequest { product_id, quantity, request_id };
        check_outcome("orders.v1.RestockProductRequest", Restock::try_from(&r).map(drop), 0)?;
    }

    #[test]
    fn listings_are_parsed_or_refused_naming_real_fields(
        (customer_id, page_size, page_token) in (any_text(), any_i32(), any_text())
    ) {
        let history = proto::GetOrderHistoryRequest { customer_id, page_size, page_token: page_token.clone() };
        let outcome = HistoryPage::parse(&history, &key()).map(drop);
        check_outcome("orders.v1.GetOrderHistoryRequest", outcome, 0)?;
        let products = proto::ListProductsRequest { page_size, page_token, show_archived: false };
        check_outcome("orders.v1.ListProductsRequest", ProductPage::parse(&products, &key()).map(drop), 0)?;
    }

    #[test]
    fn ids_are_parsed_or_refused_naming_their_field(id in any_text()) {
        for (message, field) in [
            ("orders.v1.GetOrderRequest", "order_id"),
            ("orders.v1.ShipOrderRequest", "order_id"),
            ("orders.v1.GetProductRequest", "product_id"),
        ] {
            check_outcome(message, parse_id(field, &id).map(drop), 0)?;
        }
    }

    /// Arbitrary bytes, and valid messages with arbitrary bytes appended
    /// (protobuf merges them), as the server would receive them.
    #[test]
    fn arbitrary_bytes_are_parsed_or_refused_for_every_method(
        method in select(Method::ALL.to_vec()),
        prefix in any_create_product(),
        bytes in vec(any::<u8>(), 0..300),
        keep_prefix in any::<bool>(),
    ) {
        let mut body = if keep_prefix { prefix.encode_to_vec() } else { Vec::new() };
        body.extend(bytes);
        let message = &API.inputs[method.path()];
        check_outcome(message, decode_and_validate(method, &body, &key()), usize::MAX)?;
    }
}

// Valid input: each strategy yields a request and the values parsing must
// produce from it.

/// A UUID in one of the text forms the API accepts.
fn uuid_text() -> impl Strategy<Value = (Uuid, String)> {
    (any::<u128>(), 0..4u8).prop_map(|(n, form)| {
        let id = Uuid::from_u128(n);
        let text = match form {
            0 => id.to_string(),
            1 => id.to_string().to_uppercase(),
            2 => id.simple().to_string(),
            _ => id.braced().to_string(),
        };
        (id, text)
    })
}

/// A customer id: 1–128 characters, none white space or control.
/// A valid email address (the syntax lettre accepts is wider; these are
/// the common shapes).
fn email_address() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,20}([.+_-][a-z0-9]{1,10})?@[a-z0-9]{1,20}(-[a-z0-9]{1,5})?\\.(com|org|de|co\\.uk)"
}

fn customer_id() -> impl Strategy<Value = String> {
    "[^\\s\\p{Cc}]{1,128}"
}

/// Free text of `min`–`max` characters (min 0 or 1) without control
/// characters, padded with spaces: `(sent, parsed)`.
fn text(min: usize, max: usize) -> impl Strategy<Value = (String, String)> {
    let pattern = format!("[^\\s\\p{{Cc}}]([^\\p{{Cc}}]{{0,{}}}[^\\s\\p{{Cc}}])?", max - 2);
    let core = proptest::string::string_regex(&pattern).expect("a valid pattern");
    let core = if min == 0 {
        prop_oneof![Just(String::new()), core].boxed()
    } else {
        core.boxed()
    };
    (core, " {0,3}", " {0,3}").prop_map(|(core, before, after)| (format!("{before}{core}{after}"), core))
}

fn country() -> impl Strategy<Value = String> {
    select(isocountry::CountryCode::as_array().to_vec()).prop_map(|c| c.alpha2().to_owned())
}

fn valid_address() -> impl Strategy<Value = (proto::Address, Address)> {
    let lines = (text(1, 200), text(1, 200), text(0, 200), text(1, 100));
    let rest = (text(0, 100), text(0, 20), country());
    (lines, rest).prop_map(
        |((recipient, line1, line2, city), (region, postal_code, country_code))| {
            let sent = proto::Address {
                recipient: recipient.0,
                line1: line1.0,
                line2: line2.0,
                city: city.0,
                region: region.0,
                postal_code: postal_code.0,
                country_code: country_code.clone(),
            };
            let parsed = Address {
                recipient: recipient.1,
                line1: line1.1,
                line2: line2.1,
                city: city.1,
                region: region.1,
                postal_code: postal_code.1,
                country_code,
            };
            (sent, parsed)
        },
    )
}

fn request_id() -> impl Strategy<Value = (Option<Uuid>, String)> {
    prop_oneof![
        Just((None, String::new())),
        uuid_text().prop_map(|(id, text)| (Some(id), text))
    ]
}

fn valid_lines() -> impl Strategy<Value = Vec<(RequestedLine, String)>> {
    let line = (uuid_text(), 1..=MAX_QUANTITY);
    let lines = vec(line, 1..=MAX_LINES).prop_map(|lines| {
        (lines.into_iter())
            .map(|((product_id, text), quantity)| (RequestedLine { product_id, quantity }, text))
            .collect::<Vec<_>>()
    });
    // Distinct products: a repeated one is refused by design.
    lines.prop_filter("distinct products", |lines| {
        let mut ids: Vec<_> = lines.iter().map(|(line, _)| line.product_id).collect();
        ids.sort();
        ids.windows(2).all(|w| w[0] != w[1])
    })
}

/// A positive price of at most [`MAX_PRICE_UNITS`]: `(currency, units, nanos)`.
fn valid_price() -> impl Strategy<Value = (String, i64, i32)> {
    let currency = select(vec!["EUR", "USD", "JPY", "GBP", "CHF", "BHD"]);
    let total_nanos = 1..=i128::from(MAX_PRICE_UNITS) * 1_000_000_000;
    (currency, total_nanos).prop_map(|(currency, total)| {
        (
            currency.to_owned(),
            (total / 1_000_000_000) as i64,
            (total % 1_000_000_000) as i32,
        )
    })
}

fn any_cursor() -> impl Strategy<Value = OrderCursor> {
    (any::<i64>(), any::<u128>()).prop_map(|(create_time_micros, id)| OrderCursor {
        create_time_micros,
        order_id: Uuid::from_u128(id),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_valid_order_parses_to_what_was_sent(
        customer_id in customer_id(),
        lines in valid_lines(),
        (address, parsed_address) in valid_address(),
        (request_id, request_id_text) in request_id(),
        email in email_address(),
    ) {
        let r = proto::CreateOrderRequest {
            customer_id: customer_id.clone(),
            line_items: (lines.iter())
                .map(|(line, text)| proto::create_order_request::LineItem {
                    product_id: text.clone(),
                    quantity: line.quantity,
                })
                .collect(),
            shipping_address: Some(address),
            request_id: request_id_text,
            customer_email: email.clone(),
            payment_method: String::new(),
        };
        let order = NewOrder::try_from(&r).unwrap();
        prop_assert_eq!(order.customer_email.as_ref().map(|e| e.as_str()), Some(r.customer_email.as_str()));
        prop_assert_eq!(order.customer_id, customer_id);
        prop_assert_eq!(order.lines, lines.into_iter().map(|(line, _)| line).collect::<Vec<_>>());
        prop_assert_eq!(order.address, parsed_address);
        prop_assert_eq!(order.request_id, request_id);
    }

    #[test]
    fn a_valid_cancellation_parses_to_what_was_sent(
        (order_id, order_id_text) in uuid_text(),
        customer_id in customer_id(),
        (reason, parsed_reason) in text(0, 500),
    ) {
        let r = proto::CancelOrderRequest { order_id: order_id_text, customer_id: customer_id.clone(), reason };
        let cancellation = Cancellation::try_from(&r).unwrap();
        prop_assert_eq!(
            (cancellation.order_id, cancellation.customer_id, cancellation.reason),
            (order_id, customer_id, parsed_reason)
        );
    }

    #[test]
    fn a_valid_product_parses_to_what_was_sent(
        sku in "[A-Za-z0-9._-]{1,64}",
        (name, parsed_name) in text(1, 200),
        (description, parsed_description) in text(0, 2000),
        (currency, units, nanos) in valid_price(),
        stock in 0..=MAX_STOCK,
        (request_id, request_id_text) in request_id(),
    ) {
        let price = proto::Money { currency_code: currency.clone(), units, nanos };
        let r = proto::CreateProductRequest {
            sku: sku.clone(), name, description, price: Some(price), stock, request_id: request_id_text,
        };
        let product = NewProduct::try_from(&r).unwrap();
        prop_assert_eq!((product.sku, product.name, product.description), (sku, parsed_name, parsed_description));
        let parsed_price = (product.price.currency_code().to_owned(), product.price.units(), product.price.nanos());
        prop_assert_eq!(parsed_price, (currency, units, nanos));
        prop_assert_eq!((product.stock, product.request_id), (stock, request_id));
    }

    #[test]
    fn a_valid_restock_parses_to_what_was_sent(
        (product_id, product_id_text) in uuid_text(),
        quantity in 1..=MAX_STOCK,
        (request_id, request_id_text) in request_id(),
    ) {
        let r = proto::RestockProductRequest { product_id: product_id_text, quantity, request_id: request_id_text };
        let restock = Restock::try_from(&r).unwrap();
        prop_assert_eq!((restock.product_id, restock.quantity, restock.request_id), (product_id, quantity, request_id));
    }

    #[test]
    fn valid_ids_parse_to_what_was_sent((id, text) in uuid_text()) {
        prop_assert_eq!(parse_id("order_id", &text).unwrap(), id);
    }

    #[test]
    fn valid_listings_parse_to_what_was_sent(
        customer_id in customer_id(),
        page_size in 1..=100i32,
        cursor in option::of(any_cursor()),
        sku in option::of("[A-Za-z0-9._-]{1,64}"),
    ) {
        let listing = Listing::OrderHistory { customer_id: &customer_id };
        let page_token = cursor.map_or_else(String::new, |c| key().seal(listing, &c));
        let r = proto::GetOrderHistoryRequest { customer_id: customer_id.clone(), page_size, page_token };
        let page = HistoryPage::parse(&r, &key()).unwrap();
        prop_assert_eq!(page, HistoryPage { customer_id, page_size: i64::from(page_size), cursor });

        let cursor = sku.map(|sku| ProductCursor { sku });
        let page_token = cursor.as_ref().map_or_else(String::new, |c| key().seal(PRODUCTS, c));
        let request = proto::ListProductsRequest { page_size, page_token, show_archived: false };
        let page = ProductPage::parse(&request, &key()).unwrap();
        prop_assert_eq!(page, ProductPage { page_size: i64::from(page_size), cursor, show_archived: false });
    }
}

/// `token` opened for `listing`, as an order cursor.
fn open(key: &PageTokenKey, listing: Listing<'_>, token: &str) -> Result<Option<OrderCursor>, String> {
    key.open::<OrderCursor>(listing, token)
}

fn any_key() -> impl Strategy<Value = PageTokenKey> {
    vec(any::<u8>(), 32..64).prop_map(|bytes| PageTokenKey::new(bytes).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn tokens_round_trip_for_any_cursor(
        key in any_key(), cursor in any_cursor(), customer_id in any::<String>(), sku in any::<String>(),
    ) {
        let listing = Listing::OrderHistory { customer_id: &customer_id };
        prop_assert_eq!(open(&key, listing, &key.seal(listing, &cursor)), Ok(Some(cursor)));
        let cursor = ProductCursor { sku };
        let token = key.seal(PRODUCTS, &cursor);
        prop_assert_eq!(key.open(PRODUCTS, &token), Ok(Some(cursor)));
    }

    #[test]
    fn any_truncation_is_refused(key in any_key(), cursor in any_cursor(), cut in any::<prop::sample::Index>()) {
        let listing = Listing::OrderHistory { customer_id: "alice" };
        let token = key.seal(listing, &cursor);
        // Cutting to nothing leaves the empty token: the first page.
        let kept = 1 + cut.index(token.len() - 1);
        prop_assert!(open(&key, listing, &token[..kept]).is_err());
    }

    #[test]
    fn any_single_bit_flip_is_refused(key in any_key(), cursor in any_cursor(), bit in any::<prop::sample::Index>()) {
        let listing = Listing::OrderHistory { customer_id: "alice" };
        let token = key.seal(listing, &cursor);
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(open(&key, listing, &URL_SAFE_NO_PAD.encode(&bytes)).is_err());
        // In the text too: any ASCII character changed (bits 0–6) is refused.
        let mut text = token.into_bytes();
        let bit = bit % (text.len() * 7);
        text[bit / 7] ^= 1 << (bit % 7);
        prop_assert!(open(&key, listing, &String::from_utf8(text).unwrap()).is_err());
    }

    #[test]
    fn tokens_do_not_cross_listings_or_customers(
        key in any_key(), cursor in any_cursor(), a in any::<String>(), b in any::<String>(),
    ) {
        prop_assume!(a != b);
        let (for_a, for_b) = (Listing::OrderHistory { customer_id: &a }, Listing::OrderHistory { customer_id: &b });
        let token = key.seal(for_a, &cursor);
        prop_assert!(open(&key, for_b, &token).is_err());
        prop_assert!(key.open::<ProductCursor>(PRODUCTS, &token).is_err());
        let product_token = key.seal(PRODUCTS, &ProductCursor { sku: a.clone() });
        prop_assert!(open(&key, for_a, &product_token).is_err());
    }

    #[test]
    fn arbitrary_tokens_are_refused(key in any_key(), text in any::<String>(), bytes in vec(any::<u8>(), 1..600)) {
        prop_assume!(!text.is_empty());
        let alice = Listing::OrderHistory { customer_id: "alice" };
        prop_assert!(open(&key, alice, &text).is_err());
        prop_assert!(key.open::<ProductCursor>(PRODUCTS, &text).is_err());
        // Well-formed base64 gets past decoding and must fail the signature.
        let encoded = URL_SAFE_NO_PAD.encode(&bytes);
        prop_assert!(open(&key, alice, &encoded).is_err());
        prop_assert!(key.open::<ProductCursor>(PRODUCTS, &encoded).is_err());
    }
}
