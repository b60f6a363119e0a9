//! `--services payments`: the payment service alone listens on
//! `--payments-addr` (not `--addr`), reports its health, serves reflection
//! for `payments.v1`, and serves no orders API.

use orders::proto::GetOrderRequest;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use super::spawn_payments_with;
use crate::app::Bearer;

#[tokio::test]
async fn served_alone_it_listens_on_its_own_address_and_answers() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let orders_addr = taken.local_addr().unwrap();
    // --addr is taken: a process without the orders service never binds it.
    let app = spawn_payments_with(|settings| settings.addr = orders_addr).await;
    assert_ne!(app.addr, orders_addr);
    let payment = app.authorized(10).await;
    assert_eq!(app.get(&payment.payment_id).await.unwrap(), payment);

    let mut health = HealthClient::new(app.channel.clone());
    let check = |service: &str| HealthCheckRequest {
        service: service.to_owned(),
    };
    let status = health.check(check("payments.v1.PaymentService")).await.unwrap();
    assert_eq!(status.into_inner().status(), ServingStatus::Serving);
    let status = health.check(check("orders.v1.OrderService")).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let mut orders = orders::proto::order_service_client::OrderServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::default(),
    );
    let status = orders.get_order(GetOrderRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}
