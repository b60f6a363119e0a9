//! Raw request bytes to a validated request, for every RPC of the API in one
//! place: the entry point of the fuzz target (`fuzz/`) and of tests that
//! feed the parsers arbitrary bytes.
//!
//! It decodes with prost, as tonic does, and then runs exactly the parse
//! functions the services run ([`NewOrder::try_from`], [`HistoryPage::parse`],
//! …), so whatever the fuzzer finds here is what the server would do. The
//! payment methods' parsers live with the payment service
//! ([`crate::payments::domain::requests`], the bottom of its tree, which
//! depends on nothing above this room); this dispatcher calls them so that
//! one entry point covers every method of the binary.

use prost::Message;

use super::{
    audit::AuditPage,
    order::{Cancellation, NewOrder},
    page::PageTokenKey,
    product::{NewProduct, Restock},
    product_change::{ArchiveChange, ProductUpdate},
    reads::{HistoryPage, ProductPage, StatePage, parse_id},
    search::SearchPage,
};
use crate::{
    error::ApiError,
    payments::domain::requests::{Authorization, Change},
    proto::{self, Method, payments::v1 as pb},
};

/// The `ErrorInfo.reason` of a body that is not a valid encoding of the
/// request message (the server's codec-error layer uses the same reason).
pub const MALFORMED_MESSAGE: &str = "MALFORMED_MESSAGE";
/// What such a caller is told, here and by the server's codec-error layer.
pub const MALFORMED_MESSAGE_TEXT: &str = "the request body is not a valid encoding of the request message";

/// Decodes `bytes` as the request message of `method` and validates it as
/// the service would, without touching any state. A body that does not
/// decode is `INVALID_ARGUMENT` with reason [`MALFORMED_MESSAGE`].
pub fn decode_and_validate(method: Method, bytes: &[u8], key: &PageTokenKey) -> Result<(), ApiError> {
    match method {
        Method::CreateOrder => NewOrder::try_from(&decode::<proto::CreateOrderRequest>(bytes)?).map(drop),
        Method::GetOrder => parse_id("order_id", &decode::<proto::GetOrderRequest>(bytes)?.order_id).map(drop),
        Method::GetOrderHistory => HistoryPage::parse(&decode(bytes)?, key).map(drop),
        Method::CancelOrder => Cancellation::try_from(&decode::<proto::CancelOrderRequest>(bytes)?).map(drop),
        Method::ShipOrder => parse_id("order_id", &decode::<proto::ShipOrderRequest>(bytes)?.order_id).map(drop),
        Method::CreateProduct => NewProduct::try_from(&decode::<proto::CreateProductRequest>(bytes)?).map(drop),
        Method::GetProduct => parse_id("product_id", &decode::<proto::GetProductRequest>(bytes)?.product_id).map(drop),
        Method::ListProducts => ProductPage::parse(&decode(bytes)?, key).map(drop),
        Method::RestockProduct => Restock::try_from(&decode::<proto::RestockProductRequest>(bytes)?).map(drop),
        Method::SearchProducts => SearchPage::parse(&decode(bytes)?, key).map(drop),
        Method::UpdateProduct => ProductUpdate::try_from(&decode::<proto::UpdateProductRequest>(bytes)?).map(drop),
        Method::ArchiveProduct => ArchiveChange::try_from(&decode::<proto::ArchiveProductRequest>(bytes)?).map(drop),
        Method::UnarchiveProduct => {
            ArchiveChange::try_from(&decode::<proto::UnarchiveProductRequest>(bytes)?).map(drop)
        }
        Method::ListAuditEvents => AuditPage::parse(&decode(bytes)?, key).map(drop),
        Method::ListOrders => StatePage::parse(&decode(bytes)?, key).map(drop),
        Method::AuthorizePayment => Authorization::try_from(&decode::<pb::AuthorizePaymentRequest>(bytes)?).map(drop),
        Method::CapturePayment => Change::try_from(&decode::<pb::CapturePaymentRequest>(bytes)?).map(drop),
        Method::CancelPayment => Change::try_from(&decode::<pb::CancelPaymentRequest>(bytes)?).map(drop),
        Method::RefundPayment => Change::try_from(&decode::<pb::RefundPaymentRequest>(bytes)?).map(drop),
        Method::GetPayment => parse_id("payment_id", &decode::<pb::GetPaymentRequest>(bytes)?.payment_id).map(drop),
        Method::ListPayments => parse_id("order_id", &decode::<pb::ListPaymentsRequest>(bytes)?.order_id).map(drop),
    }
}

fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, ApiError> {
    M::decode(bytes).map_err(|_| ApiError::InvalidArgument {
        reason: MALFORMED_MESSAGE,
        message: MALFORMED_MESSAGE_TEXT.to_owned(),
        violations: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;
    use crate::{domain::violations::INVALID_FIELDS, error::FieldViolation};

    fn key() -> PageTokenKey {
        PageTokenKey::new(vec![3; 32]).unwrap()
    }

    /// The reason and the BadRequest field paths of a refused request.
    fn refusal(method: Method, bytes: &[u8]) -> (Code, &'static str, Vec<String>) {
        match decode_and_validate(method, bytes, &key()).unwrap_err() {
            ApiError::InvalidArgument { reason, violations, .. } => {
                (Code::InvalidArgument, reason, fields(&violations))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    fn fields(violations: &[FieldViolation]) -> Vec<String> {
        violations.iter().map(|v| v.field.clone()).collect()
    }

    #[test]
    fn an_empty_body_names_the_required_fields_of_each_method() {
        let required: [(Method, &[&str]); 18] = [
            (Method::CreateOrder, &["customer_id", "line_items", "shipping_address"]),
            (Method::GetOrder, &["order_id"]),
            (Method::GetOrderHistory, &["customer_id"]),
            (Method::CancelOrder, &["order_id", "customer_id"]),
            (Method::ShipOrder, &["order_id"]),
            (Method::CreateProduct, &["sku", "name", "price"]),
            (Method::GetProduct, &["product_id"]),
            (Method::RestockProduct, &["product_id", "quantity"]),
            (Method::SearchProducts, &["query"]),
            (Method::UpdateProduct, &["product"]),
            (Method::ArchiveProduct, &["product_id"]),
            (Method::UnarchiveProduct, &["product_id"]),
            (
                Method::AuthorizePayment,
                &["request_id", "order_id", "customer_id", "amount", "payment_method"],
            ),
            (Method::CapturePayment, &["request_id", "payment_id"]),
            (Method::CancelPayment, &["request_id", "payment_id"]),
            (Method::RefundPayment, &["request_id", "payment_id"]),
            (Method::GetPayment, &["payment_id"]),
            (Method::ListPayments, &["order_id"]),
        ];
        for (method, fields) in required {
            assert_eq!(
                refusal(method, b""),
                (
                    Code::InvalidArgument,
                    INVALID_FIELDS,
                    fields.iter().map(|f| f.to_string()).collect()
                )
            );
        }
        // The only requests whose every field may be left out.
        assert!(decode_and_validate(Method::ListProducts, b"", &key()).is_ok());
        assert!(decode_and_validate(Method::ListAuditEvents, b"", &key()).is_ok());
    }

    #[test]
    fn bytes_that_do_not_decode_are_malformed_for_every_method() {
        // Tag 0, wire type 7, an endless varint, a length past the end.
        for garbage in [&[0x00][..], &[0x0f], &[0xff; 11], &[0x0a, 0x05, b'a']] {
            for method in Method::ALL {
                assert_eq!(
                    refusal(method, garbage),
                    (Code::InvalidArgument, MALFORMED_MESSAGE, vec![])
                );
            }
        }
    }

    #[test]
    fn a_valid_request_passes() {
        let request = proto::GetOrderRequest {
            order_id: "6f1c2b9e-3f4a-4d5b-9c8e-1a2b3c4d5e6f".into(),
        };
        assert!(decode_and_validate(Method::GetOrder, &request.encode_to_vec(), &key()).is_ok());
    }
}
