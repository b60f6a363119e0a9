//! The payment saga end to end, through the public APIs: the orders,
//! payment and notifications services in one test server (each on a fresh
//! database of its own), events on the test's own stream, email at a real
//! SMTP server. After each path: the order's state and history, the stock,
//! the payment's ledger, the events and the emails, all exact.
//!
//! `paths.rs`: paid, declined, pay on delivery, shipping unpaid;
//! `cancellations.rs`: cancelled when placed (released) or paid (refunded);
//! `timeouts.rs`: timed out, and a late success refunded;
//! `conservation.rs`: money conserved under a random mix from many callers;
//! `faults.rs`: the payment service away, slow or killed, the orders
//! service killed: every order still paid or cancelled, charged once;
//! `pick_list.rs`: ListOrders.

mod cancellations;
mod conservation;
mod faults;
mod paths;
mod pick_list;
mod timeouts;

use std::ops::Deref;

use orders::{
    config::{ServiceName, Settings},
    proto::{
        self,
        payments::v1::{ListPaymentsRequest, Payment, payment_service_client::PaymentServiceClient},
    },
};
use tonic::transport::Channel;

use crate::{
    api_calls::create_product,
    app::{Orders, TestApp, spawn_app_owning},
    nats::{Published, TestEvents},
    requests::order_request,
    smtp::SmtpSink,
    test_database::TestDatabase,
    timing::eventually,
};

/// The shop with card payments, and what the test watches it through.
pub struct PayingShop {
    pub app: TestApp,
    /// The app's orders service and the payment service the saga calls.
    pub clients: ShopClients,
    pub events: TestEvents,
    pub smtp: SmtpSink,
}

/// The orders service and the payment service as a test calls them,
/// wherever they run (in this process or as binaries of their own):
/// placing orders and watching the saga take them where they end.
#[derive(Clone)]
pub struct ShopClients {
    pub orders: Orders,
    pub payments: PaymentServiceClient<Channel>,
}

impl Deref for PayingShop {
    type Target = ShopClients;

    fn deref(&self) -> &ShopClients {
        &self.clients
    }
}

/// Starts the three services, after `configure` has adjusted the settings.
pub async fn spawn_paying_shop(configure: impl FnOnce(&mut Settings)) -> PayingShop {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let (notifications, payments) = (TestDatabase::create_empty().await, TestDatabase::create_empty().await);
    let (notifications_url, payments_url) = (notifications.url.clone(), payments.url.clone());
    let databases = vec![TestDatabase::create().await, notifications, payments];
    let app = spawn_app_owning(databases, |settings| {
        events.configure(settings);
        settings.services = vec![ServiceName::Orders, ServiceName::Payments, ServiceName::Notifications];
        settings.notifications.notifications_database_url = Some(notifications_url.as_str().into());
        settings.notifications.smtp_url = Some(smtp.url().as_str().into());
        settings.notifications.mail_from = "Test Shop <shop@example.com>".parse().unwrap();
        settings.payments.payments_database_url = Some(payments_url.as_str().into());
        configure(settings);
    })
    .await;
    let clients = ShopClients {
        orders: app.orders.clone(),
        payments: PaymentServiceClient::new(app.channel.clone()),
    };
    PayingShop {
        app,
        clients,
        events,
        smtp,
    }
}

impl PayingShop {
    /// A product priced 12.50 EUR with `stock` units.
    pub async fn mug(&self, stock: i64) -> String {
        self.product("MUG", stock).await
    }

    /// A product `sku` priced 12.50 EUR with `stock` units.
    pub async fn product(&self, sku: &str, stock: i64) -> String {
        create_product(&self.app, sku, (12, 500_000_000, "EUR"), stock)
            .await
            .product_id
    }

    /// The types of the order events of `order_id` on the stream (such as
    /// `OrderPaid`), once `count` arrived, each checked to be on its subject
    /// (`<prefix>.order.paid`).
    pub async fn order_events(&self, order_id: &str, count: usize) -> Vec<String> {
        let what = format!("{count} events of order {order_id}");
        eventually(30, &what, || async { self.events_of(order_id).await.len() >= count }).await;
        let events = self.events_of(order_id).await;
        (events.iter())
            .map(|event| {
                let name = event.event_type.trim_start_matches("orders.v1.").to_owned();
                let subject = format!("{}.order.{}", self.events.prefix, name["Order".len()..].to_lowercase());
                assert_eq!(event.subject, subject, "the subject of {}", event.event_type);
                name
            })
            .collect()
    }

    async fn events_of(&self, order_id: &str) -> Vec<Published> {
        let about = |e: &Published| e.subject.contains(".order.") && e.order().order_id == order_id;
        self.events.published().await.into_iter().filter(about).collect()
    }

    /// The subjects of the emails sent, once `count` arrived, in order.
    pub async fn email_subjects(&self, count: usize) -> Vec<String> {
        self.smtp
            .wait_for(count, 30)
            .await
            .iter()
            .map(|e| e.header("Subject"))
            .collect()
    }
}

impl ShopClients {
    /// Places an order of ada's for `quantity` of `product`, paid with
    /// `payment_method` (empty: on delivery), emailed to ada@example.com.
    pub async fn place(&self, product: &str, quantity: i32, payment_method: &str) -> proto::Order {
        let mut request = order_request("ada", &[(product, quantity)]);
        request.customer_email = "ada@example.com".to_owned();
        request.payment_method = payment_method.to_owned();
        let response = self.orders.clone().create_order(request).await;
        response.expect("CreateOrder").into_inner().order.expect("an order")
    }

    /// ShipOrder, as the warehouse.
    pub async fn ship(&self, order_id: &str) -> Result<proto::Order, tonic::Status> {
        let request = proto::ShipOrderRequest {
            order_id: order_id.to_owned(),
        };
        let response = self.orders.clone().ship_order(request).await?;
        Ok(response.into_inner().order.expect("an order"))
    }

    /// GetOrder: the order and its history.
    pub async fn get(&self, order_id: &str) -> proto::GetOrderResponse {
        let request = proto::GetOrderRequest {
            order_id: order_id.to_owned(),
        };
        self.orders
            .clone()
            .get_order(request)
            .await
            .expect("GetOrder")
            .into_inner()
    }

    /// Waits until the order is in `state` with its payment `status`.
    pub async fn wait_for(
        &self,
        order_id: &str,
        state: proto::OrderState,
        status: proto::PaymentStatus,
    ) -> proto::GetOrderResponse {
        self.wait_for_any(order_id, state, &[status]).await
    }

    /// Waits until the order is in `state` with its payment in one of `statuses`.
    pub async fn wait_for_any(
        &self,
        order_id: &str,
        state: proto::OrderState,
        statuses: &[proto::PaymentStatus],
    ) -> proto::GetOrderResponse {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let now = self.get(order_id).await;
            let order = now.order.clone().unwrap();
            let status = order.payment.as_ref().map(|p| p.status());
            if order.state() == state && status.is_some_and(|s| statuses.contains(&s)) {
                return now;
            }
            if tokio::time::Instant::now() > deadline {
                let ledger = self.ledger(order_id).await;
                panic!(
                    "order {order_id} not {state:?} with its payment one of {statuses:?} within 30 s: it is {:?} with \
                     {:?}; its ledger: {ledger:?}",
                    order.state(),
                    order.payment
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The order's payments, as the payment service has them.
    pub async fn payments_of(&self, order_id: &str) -> Vec<Payment> {
        let request = ListPaymentsRequest {
            order_id: order_id.to_owned(),
        };
        self.payments
            .clone()
            .list_payments(request)
            .await
            .expect("ListPayments")
            .into_inner()
            .payments
    }

    /// The order's ledger: every movement of every payment, as (kind, units, nanos).
    pub async fn ledger(&self, order_id: &str) -> Vec<(String, i64, i32)> {
        let payments = self.payments_of(order_id).await;
        let movements = payments.iter().flat_map(|p| &p.movements);
        let money = |m: &proto::payments::v1::PaymentMovement| m.amount.clone().unwrap_or_default();
        movements
            .map(|m| (m.kind().as_str_name().to_owned(), money(m).units, money(m).nanos))
            .collect()
    }
}

/// The short form of an order id the emails' subjects use.
pub fn short(order: &proto::Order) -> String {
    order.order_id[order.order_id.len() - 8..].to_owned()
}

/// A state history as (from, to, reason, actor role).
pub fn history(response: &proto::GetOrderResponse) -> Vec<(proto::OrderState, proto::OrderState, String, String)> {
    let role = |c: &proto::OrderStateChange| c.actor.as_ref().map(|a| a.role.clone()).unwrap_or_default();
    (response.state_history.iter())
        .map(|c| (c.from_state(), c.to_state(), c.reason.clone(), role(c)))
        .collect()
}
