//! Each RPC's outcome and the ledger it leaves, and every error code and
//! reason the proto lists.

use orders::proto::payments::v1::{self as pb, PaymentState as S};
use tonic::Code;
use uuid::Uuid;

use super::{amounts, assert_payments_error, authorize_request, eur, ledger, refund_request, spawn_payments};
use crate::assertions::{assert_clean_message, bad_fields};

fn money(units: i64) -> String {
    format!("EUR {units}.000000000")
}

#[tokio::test]
async fn an_authorization_holds_the_amount_with_one_ledger_entry() {
    let app = spawn_payments().await;
    let order = Uuid::new_v4();
    let request = authorize_request(order, "pm_card_mastercard", 10);
    let payment = (app.client.clone().authorize_payment(request.clone()).await.unwrap())
        .into_inner()
        .payment
        .unwrap();
    assert_eq!(amounts(&payment), (S::Authorized, money(10), money(0), money(0)));
    assert_eq!(ledger(&payment), ["AUTHORIZED EUR 10.000000000"]);
    assert_eq!(payment.movements[0].sequence, 1);
    assert_eq!(payment.movements[0].request_id, request.request_id);
    assert_eq!(
        (payment.order_id.as_str(), payment.customer_id.as_str()),
        (order.to_string().as_str(), "alice")
    );
    assert_eq!(payment.payment_method, "pm_card_mastercard");
    assert_eq!(app.get(&payment.payment_id).await.unwrap(), payment);
}

#[tokio::test]
async fn a_declined_authorization_is_a_declined_payment_not_an_error() {
    let app = spawn_payments().await;
    for (method, code) in [
        ("pm_card_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ] {
        let payment = app.authorize(method, 10).await.unwrap();
        assert_eq!(amounts(&payment), (S::Declined, money(0), money(0), money(0)));
        assert_eq!(payment.decline_code, code);
        assert_eq!(ledger(&payment), ["FAILED EUR 10.000000000"]);
        assert_eq!(payment.movements[0].failure_code, code);
    }
}

#[tokio::test]
async fn unknown_methods_card_numbers_and_bad_fields_are_invalid_and_record_nothing() {
    let app = spawn_payments().await;
    let status = app.authorize("pm_card_amex", 10).await.unwrap_err();
    assert_payments_error(&status, Code::InvalidArgument, "UNKNOWN_PAYMENT_METHOD");
    let status = app.authorize("4242 4242 4242 4242", 10).await.unwrap_err();
    let details = assert_payments_error(&status, Code::InvalidArgument, "CARD_NUMBER_REFUSED");
    assert_eq!(bad_fields(&details), ["payment_method"]);
    assert!(!status.message().contains("4242"), "{status:?}");
    let status = (app.client.clone())
        .authorize_payment(pb::AuthorizePaymentRequest::default())
        .await
        .unwrap_err();
    let details = assert_payments_error(&status, Code::InvalidArgument, "INVALID_FIELDS");
    let fields = ["request_id", "order_id", "customer_id", "amount", "payment_method"];
    assert_eq!(bad_fields(&details), fields);
    let status = app.authorize("pm_card_visa", 1_000_000_000).await.unwrap_err();
    assert_eq!(
        bad_fields(&assert_payments_error(&status, Code::InvalidArgument, "INVALID_FIELDS")),
        ["amount.units"]
    );
    assert_eq!(app.movements().await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM payments").await, 0);
}

#[tokio::test]
async fn an_order_has_at_most_twenty_payments_listed_oldest_first() {
    let app = spawn_payments().await;
    let order = Uuid::new_v4();
    let mut ids = Vec::new();
    for units in 1..=20 {
        let request = authorize_request(order, "pm_card_visa", units);
        let payment = app.client.clone().authorize_payment(request).await.unwrap();
        ids.push(payment.into_inner().payment.unwrap().payment_id);
    }
    let status = (app.client.clone())
        .authorize_payment(authorize_request(order, "pm_card_visa", 21))
        .await
        .unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "TOO_MANY_PAYMENTS");
    let listed = (app.client.clone())
        .list_payments(pb::ListPaymentsRequest {
            order_id: order.to_string(),
        })
        .await
        .unwrap()
        .into_inner()
        .payments;
    let listed_ids: Vec<String> = listed.iter().map(|p| p.payment_id.clone()).collect();
    assert_eq!(listed_ids, ids);
    assert!(listed.iter().all(|p| p.movements.len() == 1));
    let other = pb::ListPaymentsRequest {
        order_id: Uuid::new_v4().to_string(),
    };
    assert!(
        app.client
            .clone()
            .list_payments(other)
            .await
            .unwrap()
            .into_inner()
            .payments
            .is_empty()
    );
}

#[tokio::test]
async fn a_full_capture_takes_everything_once() {
    let app = spawn_payments().await;
    let payment = app.authorized(10).await;
    let captured = app.capture(&payment, None).await.unwrap();
    assert_eq!(amounts(&captured), (S::Captured, money(0), money(10), money(0)));
    assert_eq!(
        ledger(&captured),
        ["AUTHORIZED EUR 10.000000000", "CAPTURED EUR 10.000000000"]
    );
    let status = app.capture(&captured, None).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "PAYMENT_NOT_CAPTURABLE");
    assert_eq!(app.movements().await, 2);
}

#[tokio::test]
async fn a_smaller_capture_releases_the_rest() {
    let app = spawn_payments().await;
    let payment = app.authorized(10).await;
    let captured = app.capture(&payment, Some(eur(6, 500_000_000))).await.unwrap();
    assert_eq!(
        amounts(&captured),
        (S::Captured, money(0), "EUR 6.500000000".into(), money(0))
    );
    assert_eq!(
        ledger(&captured),
        [
            "AUTHORIZED EUR 10.000000000",
            "CAPTURED EUR 6.500000000",
            "RELEASED EUR 3.500000000"
        ]
    );
    let sequences: Vec<i64> = captured.movements.iter().map(|m| m.sequence).collect();
    assert_eq!(sequences, [1, 2, 3]);
}

#[tokio::test]
async fn a_capture_above_the_authorization_or_in_another_currency_is_refused() {
    let app = spawn_payments().await;
    let payment = app.authorized(10).await;
    let status = app.capture(&payment, Some(eur(10, 1))).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "AMOUNT_EXCEEDS_AUTHORIZED");
    let dollars = orders::proto::Money {
        currency_code: "USD".into(),
        units: 1,
        nanos: 0,
    };
    let status = app.capture(&payment, Some(dollars)).await.unwrap_err();
    let details = assert_payments_error(&status, Code::InvalidArgument, "INVALID_FIELDS");
    assert_eq!(bad_fields(&details), ["amount.currency_code"]);
    assert_eq!(app.movements().await, 1);
}

#[tokio::test]
async fn cancelling_releases_the_authorization_and_again_changes_nothing() {
    let app = spawn_payments().await;
    let payment = app.authorized(10).await;
    let cancelled = app.cancel(&payment).await.unwrap();
    assert_eq!(amounts(&cancelled), (S::Cancelled, money(0), money(0), money(0)));
    assert_eq!(
        ledger(&cancelled),
        ["AUTHORIZED EUR 10.000000000", "RELEASED EUR 10.000000000"]
    );
    assert_eq!(cancelled.movements[1].reason, "customer changed their mind");
    let again = app.cancel(&cancelled).await.unwrap();
    assert_eq!(again, cancelled);
    assert_eq!(app.movements().await, 2);
    let status = app.capture(&cancelled, None).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "PAYMENT_NOT_CAPTURABLE");
}

#[tokio::test]
async fn a_captured_or_declined_payment_cannot_be_cancelled() {
    let app = spawn_payments().await;
    let captured = app.capture(&app.authorized(10).await, None).await.unwrap();
    let status = app.cancel(&captured).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "PAYMENT_NOT_CANCELLABLE");
    let declined = app.authorize("pm_card_chargeDeclined", 10).await.unwrap();
    let status = app.cancel(&declined).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "PAYMENT_NOT_CANCELLABLE");
    assert_eq!(app.movements().await, 3);
}

#[tokio::test]
async fn refunds_give_back_captured_money_in_parts_up_to_all_of_it() {
    let app = spawn_payments().await;
    let captured = app.capture(&app.authorized(10).await, None).await.unwrap();
    let part = app.refund(&captured, Some(eur(3, 0))).await.unwrap();
    assert_eq!(amounts(&part), (S::PartiallyRefunded, money(0), money(10), money(3)));
    let status = app.refund(&part, Some(eur(7, 1))).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "AMOUNT_EXCEEDS_CAPTURED");
    let rest = app.refund(&part, None).await.unwrap();
    assert_eq!(amounts(&rest), (S::Refunded, money(0), money(10), money(10)));
    assert_eq!(
        ledger(&rest),
        [
            "AUTHORIZED EUR 10.000000000",
            "CAPTURED EUR 10.000000000",
            "REFUNDED EUR 3.000000000",
            "REFUNDED EUR 7.000000000"
        ]
    );
    assert_eq!(rest.movements[2].reason, "returned");
    let status = app.refund(&rest, None).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "PAYMENT_NOT_REFUNDABLE");
}

#[tokio::test]
async fn nothing_captured_is_not_refundable() {
    let app = spawn_payments().await;
    let payment = app.authorized(10).await;
    let status = app.refund(&payment, None).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "PAYMENT_NOT_REFUNDABLE");
    assert_eq!(app.movements().await, 1);
}

#[tokio::test]
async fn an_unknown_payment_is_not_found_and_a_malformed_id_invalid() {
    let app = spawn_payments().await;
    let missing = Uuid::new_v4().to_string();
    let status = app.get(&missing).await.unwrap_err();
    let details = assert_payments_error(&status, Code::NotFound, "PAYMENT_NOT_FOUND");
    assert_eq!(details.resource_info().unwrap().resource_name, missing);
    let status = (app.client.clone())
        .refund_payment(refund_request(&missing, None))
        .await
        .unwrap_err();
    assert_payments_error(&status, Code::NotFound, "PAYMENT_NOT_FOUND");
    let status = app.get("42").await.unwrap_err();
    assert_eq!(
        bad_fields(&assert_payments_error(&status, Code::InvalidArgument, "INVALID_FIELDS")),
        ["payment_id"]
    );
    assert_clean_message(&status);
}
