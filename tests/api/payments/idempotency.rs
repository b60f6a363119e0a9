//! AIP-155 on every mutating RPC: 50 identical calls at once make one
//! ledger entry and all get the same payment; the same `request_id` with
//! other content is FAILED_PRECONDITION `REQUEST_ID_REUSED`.

use orders::proto::payments::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use super::{
    PaymentsApp, assert_payments_error, authorize_request, cancel_request, capture_request, eur, refund_request,
    spawn_payments,
};
use crate::timing::concurrently;

const CALLS: usize = 50;

/// Sends `request` `CALLS` times at once through `call`; all must answer
/// the same payment, which is returned.
async fn fifty<Q, F, Fut>(app: &PaymentsApp, request: Q, call: F) -> pb::Payment
where
    Q: Clone + Send + 'static,
    F: Fn(super::Payments, Q) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<pb::Payment, tonic::Status>> + Send + 'static,
{
    let answers = concurrently(CALLS, |_| {
        let (client, request, call) = (app.client.clone(), request.clone(), call.clone());
        async move { call(client, request).await.expect("every duplicate succeeds") }
    })
    .await;
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "all 50 answers are the same payment"
    );
    answers[0].clone()
}

async fn authorize(mut c: super::Payments, r: pb::AuthorizePaymentRequest) -> Result<pb::Payment, tonic::Status> {
    Ok(c.authorize_payment(r).await?.into_inner().payment.unwrap())
}

async fn capture(mut c: super::Payments, r: pb::CapturePaymentRequest) -> Result<pb::Payment, tonic::Status> {
    Ok(c.capture_payment(r).await?.into_inner().payment.unwrap())
}

async fn cancel(mut c: super::Payments, r: pb::CancelPaymentRequest) -> Result<pb::Payment, tonic::Status> {
    Ok(c.cancel_payment(r).await?.into_inner().payment.unwrap())
}

async fn refund(mut c: super::Payments, r: pb::RefundPaymentRequest) -> Result<pb::Payment, tonic::Status> {
    Ok(c.refund_payment(r).await?.into_inner().payment.unwrap())
}

#[tokio::test]
async fn fifty_identical_authorizations_make_one_payment() {
    let app = spawn_payments().await;
    let payment = fifty(&app, authorize_request(Uuid::new_v4(), "pm_card_visa", 10), authorize).await;
    assert_eq!(payment.movements.len(), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM payments").await, 1);
    assert_eq!(app.movements().await, 1);
}

#[tokio::test]
async fn fifty_identical_captures_make_one_capture() {
    let app = spawn_payments().await;
    let payment = app.authorized(10).await;
    let captured = fifty(&app, capture_request(&payment.payment_id, Some(eur(4, 0))), capture).await;
    assert_eq!(captured.movements.len(), 3);
    assert_eq!(app.movements().await, 3);
}

#[tokio::test]
async fn fifty_identical_cancellations_make_one_release() {
    let app = spawn_payments().await;
    let payment = app.authorized(10).await;
    let cancelled = fifty(&app, cancel_request(&payment.payment_id), cancel).await;
    assert_eq!(cancelled.state(), pb::PaymentState::Cancelled);
    assert_eq!(app.movements().await, 2);
}

#[tokio::test]
async fn fifty_identical_refunds_make_one_refund() {
    let app = spawn_payments().await;
    let captured = app.capture(&app.authorized(10).await, None).await.unwrap();
    let refunded = fifty(&app, refund_request(&captured.payment_id, Some(eur(1, 0))), refund).await;
    assert_eq!(refunded.state(), pb::PaymentState::PartiallyRefunded);
    assert_eq!(app.movements().await, 3);
}

#[tokio::test]
async fn a_request_id_reused_with_other_content_is_refused_for_every_rpc() {
    let app = spawn_payments().await;
    let mut client = app.client.clone();
    let first = authorize_request(Uuid::new_v4(), "pm_card_visa", 10);
    let payment = client
        .authorize_payment(first.clone())
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    let other = pb::AuthorizePaymentRequest {
        amount: Some(eur(11, 0)),
        ..first
    };
    let status = client.authorize_payment(other).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");

    let capture = capture_request(&payment.payment_id, Some(eur(10, 0)));
    client.capture_payment(capture.clone()).await.unwrap();
    let other = pb::CapturePaymentRequest {
        amount: Some(eur(9, 0)),
        ..capture
    };
    let status = client.capture_payment(other).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");

    let refund = refund_request(&payment.payment_id, Some(eur(1, 0)));
    client.refund_payment(refund.clone()).await.unwrap();
    let other = pb::RefundPaymentRequest {
        reason: "another reason".into(),
        ..refund
    };
    let status = client.refund_payment(other).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");

    let second = app.authorized(5).await;
    let cancel = cancel_request(&second.payment_id);
    client.cancel_payment(cancel.clone()).await.unwrap();
    let other = pb::CancelPaymentRequest {
        reason: "another reason".into(),
        ..cancel
    };
    let status = client.cancel_payment(other).await.unwrap_err();
    assert_payments_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    // authorized + captured + refunded, authorized + released.
    assert_eq!(app.movements().await, 5);
}
