//! The development processor's faults: unavailable (UNAVAILABLE, nothing
//! recorded, then the same request succeeds once) and slow, set at run
//! time and from the settings.

use std::time::{Duration, Instant};

use tonic::Code;
use uuid::Uuid;

use super::{assert_payments_error, authorize_request, capture_request, spawn_payments, spawn_payments_with};

#[tokio::test]
async fn an_unavailable_processor_records_nothing_and_the_same_request_succeeds_once_later() {
    let app = spawn_payments().await;
    let mut client = app.client.clone();
    let request = authorize_request(Uuid::new_v4(), "pm_card_visa", 10);
    app.faults.set_unavailable(true);
    let status = client.authorize_payment(request.clone()).await.unwrap_err();
    assert_payments_error(&status, Code::Unavailable, "PROCESSOR_UNAVAILABLE");
    assert_eq!(app.count("SELECT count(*) AS n FROM payments").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM idempotency_keys").await, 0);

    app.faults.set_unavailable(false);
    let first = client.authorize_payment(request.clone()).await.unwrap().into_inner();
    let again = client.authorize_payment(request).await.unwrap().into_inner();
    assert_eq!(first, again);
    assert_eq!(app.movements().await, 1);

    // A capture fails the same way, and leaves the payment as it was.
    let payment = first.payment.unwrap();
    app.faults.set_unavailable(true);
    let capture = capture_request(&payment.payment_id, None);
    let status = client.capture_payment(capture.clone()).await.unwrap_err();
    assert_payments_error(&status, Code::Unavailable, "PROCESSOR_UNAVAILABLE");
    assert_eq!(app.get(&payment.payment_id).await.unwrap(), payment);
    app.faults.set_unavailable(false);
    client.capture_payment(capture.clone()).await.unwrap();
    client.capture_payment(capture).await.unwrap();
    assert_eq!(app.movements().await, 2);
}

#[tokio::test]
async fn the_unavailable_setting_starts_the_processor_switched_off() {
    let app = spawn_payments_with(|settings| settings.payments.payment_processor_unavailable = true).await;
    let status = app.authorize("pm_card_visa", 10).await.unwrap_err();
    assert_payments_error(&status, Code::Unavailable, "PROCESSOR_UNAVAILABLE");
    assert_eq!(app.movements().await, 0);
}

#[tokio::test]
async fn a_slow_processor_slows_the_call_down_and_a_short_deadline_gives_up() {
    let app =
        spawn_payments_with(|settings| settings.payments.payment_processor_delay = Duration::from_millis(300)).await;
    let started = Instant::now();
    app.authorized(10).await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );

    app.faults.set_delay(Duration::from_secs(2));
    let mut request = tonic::Request::new(authorize_request(Uuid::new_v4(), "pm_card_visa", 10));
    request.set_timeout(Duration::from_millis(200));
    let started = Instant::now();
    let status = app.client.clone().authorize_payment(request).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    // The server's DEADLINE_EXCEEDED, unless tonic's own timer won the race.
    let client_gave_up = status.code() == Code::Cancelled && status.message() == "Timeout expired";
    if !client_gave_up {
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    }

    app.faults.set_delay(Duration::ZERO);
    let started = Instant::now();
    app.authorized(10).await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}
