//! The saga when the services it joins fail: the payment service away,
//! slower than the saga's deadline, or killed (kill -9) mid-call; the
//! orders service killed mid-saga. Whatever happened, once the services
//! are back every order ends as its card says (PAID; or CANCELLED,
//! PAYMENT_DECLINED), with one payment whose ledger holds one
//! authorization and, for a card that works, one capture: nobody is
//! charged twice, nothing is refunded or left held, and the stock is exact.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use orders::{
    config::ServiceName,
    proto::{self, OrderState::*, PaymentStatus, payments::v1::payment_service_client::PaymentServiceClient},
};
use tonic::transport::Channel;

use super::{PayingShop, ShopClients, conservation::assert_money_conserved, history, spawn_paying_shop};
use crate::{
    api_calls::stock_of,
    app::{Bearer, Clients, connect_channel},
    binary::Server,
    direct_sql::{query_n, query_n_on},
    local_machine::free_port,
    payments::{spawn_payments, spawn_payments_with},
    requests::product_request,
    test_database::TestDatabase,
    timing::{eventually, within},
};

const VISA: &str = "pm_card_visa";
const DECLINED: &str = "pm_card_chargeDeclined";
const STOCK: i64 = 1_000;
/// Orders placed in each test, every other one with a declined card.
const ORDERS: usize = 20;
/// An order waiting for its payment.
const WAITING: (proto::OrderState, Option<PaymentStatus>) = (Placed, Some(PaymentStatus::Pending));

#[tokio::test]
async fn orders_placed_while_the_payment_service_is_away_are_paid_or_declined_once_it_is_back() {
    let payments = spawn_payments().await;
    let shop = shop_paying_at(&format!("http://{}", payments.addr)).await;
    let mug = shop.mug(STOCK).await;
    payments.faults.set_unavailable(true);
    let placed = place_mix(&shop, &mug).await;

    // A short outage: the charge jobs are tried and refused, the orders wait.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(states(&shop, &placed).await, vec![WAITING; placed.len()]);
    let tried = "SELECT min(attempts)::bigint AS n FROM jobs WHERE kind = 'charge_order'";
    assert!(
        query_n(&shop.app, tried).await >= 2,
        "every charge was refused, and tried again"
    );
    assert_eq!(payments.count("SELECT count(*) AS n FROM payments").await, 0);

    payments.faults.set_unavailable(false);
    assert_each_ended_as_its_card_says(&shop, &placed).await;
    assert_eq!(stock_of(&shop.app, &mug).await, STOCK - units_paid(&placed));
}

#[tokio::test]
async fn a_payment_service_slower_than_the_sagas_deadline_still_charges_each_order_once() {
    // Each processor call takes 12 s; the saga's client gives up after
    // 10 s. Every call times out once while the payment service goes on
    // and records it; the job's next attempt asks again with the same
    // idempotency key and gets that answer.
    let slow = Duration::from_secs(12);
    let payments = spawn_payments_with(|s| s.payments.payment_processor_delay = slow).await;
    let shop = shop_paying_at(&format!("http://{}", payments.addr)).await;
    let mug = shop.mug(STOCK).await;
    let placed = [
        shop.place(&mug, 1, VISA).await,
        shop.place(&mug, 2, DECLINED).await,
        shop.place(&mug, 3, VISA).await,
    ];
    let timed_out = "SELECT count(*) AS n FROM jobs WHERE kind = 'charge_order' \
                     AND last_error LIKE 'the payment service did not answer%'";
    eventually(15, "every first call timed out", async || {
        query_n(&shop.app, timed_out).await == 3
    })
    .await;
    assert_eq!(states(&shop, &placed).await, vec![WAITING; placed.len()]);

    assert_each_ended_as_its_card_says(&shop, &placed).await;
    assert_eq!(stock_of(&shop.app, &mug).await, STOCK - units_paid(&placed));
    for order in &placed {
        // The authorization timed out, and the capture: the third attempt paid.
        let calls_that_timed_out = if method(order) == VISA { 2 } else { 1 };
        let attempts = format!(
            "SELECT attempts::bigint AS n FROM jobs WHERE kind = 'charge_order' \
             AND payload->>'order_id' = '{}' AND state = 'succeeded'",
            order.order_id
        );
        assert_eq!(
            query_n(&shop.app, &attempts).await,
            calls_that_timed_out + 1,
            "{order:?}"
        );
    }
}

#[tokio::test]
async fn a_payment_service_killed_mid_saga_and_restarted_charges_each_order_once() {
    let database = TestDatabase::create_empty().await;
    let addr = format!("127.0.0.1:{}", free_port());
    // 300 ms per processor call: the kill finds calls under way.
    let start = || start_payments(&database.url, &addr);
    let payments = start().await;
    let shop = shop_paying_at(&format!("http://{addr}")).await;
    let mug = shop.mug(STOCK).await;
    let placed = place_mix(&shop, &mug).await;

    kill_once_one_is_paid(&shop, &placed, payments).await;
    let states = states(&shop, &placed).await;
    assert!(
        states.iter().any(|s| s.0 == Placed),
        "the kill came mid-saga: {states:?}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _payments = start().await;
    assert_each_ended_as_its_card_says(&shop, &placed).await;
    assert_eq!(stock_of(&shop.app, &mug).await, STOCK - units_paid(&placed));
}

#[tokio::test]
async fn an_orders_service_killed_mid_saga_and_restarted_finishes_each_charge_once() {
    let payments = spawn_payments_with(|s| s.payments.payment_processor_delay = Duration::from_millis(300)).await;
    let payments_url = format!("http://{}", payments.addr);
    let database = TestDatabase::create().await;
    let addr = format!("127.0.0.1:{}", free_port());
    let start = || start_orders(&database.url, &addr, &payments_url);
    let (orders, clients) = start().await;
    let shop = ShopClients {
        orders: clients.orders,
        payments: PaymentServiceClient::new(payments.channel.clone()),
    };
    let mut catalog = clients.catalog;
    let created = catalog.create_product(product_request("MUG", (12, 500_000_000, "EUR"), STOCK));
    let mug = created
        .await
        .expect("CreateProduct")
        .into_inner()
        .product
        .unwrap()
        .product_id;
    let placed = place_mix(&shop, &mug).await;

    kill_once_one_is_paid(&shop, &placed, orders).await;
    // The charges the dead process was running stay its own for the
    // orders worker's lease, 90 s (an attempt is cut at 60 s, so a live
    // worker never loses one): a restart alone would wait that long. The
    // test ends the leases instead of waiting them out.
    let mut db = AsyncPgConnection::establish(&database.url).await.unwrap();
    let held = "SELECT count(*) AS n FROM jobs WHERE kind = 'charge_order' AND state = 'running'";
    let held = query_n_on(&mut db, held).await;
    assert!(held > 0, "the kill came mid-saga, while charges ran");
    let leased = "SELECT count(*) AS n FROM jobs WHERE kind = 'charge_order' AND state = 'running' \
                  AND locked_until BETWEEN now() + interval '60 seconds' AND now() + interval '90 seconds'";
    assert_eq!(query_n_on(&mut db, leased).await, held, "held for at most 90 s more");
    let lease_ends_now = "UPDATE jobs SET locked_until = now() WHERE state = 'running'";
    diesel::sql_query(lease_ends_now).execute(&mut db).await.unwrap();

    let (_orders, clients) = start().await;
    let shop = ShopClients {
        orders: clients.orders,
        ..shop
    };
    assert_each_ended_as_its_card_says(&shop, &placed).await;
    let request = proto::GetProductRequest { product_id: mug };
    let stock = clients.catalog.clone().get_product(request).await;
    let stock = stock.expect("GetProduct").into_inner();
    assert_eq!(stock.product.unwrap().stock, STOCK - units_paid(&placed));
    let unfinished = "SELECT count(*) AS n FROM jobs WHERE kind = 'charge_order' AND state <> 'succeeded'";
    assert_eq!(query_n_on(&mut db, unfinished).await, 0);
}

/// The shop (orders and notifications in this process) calling the payment
/// service at `url`, and reading its ledger there.
async fn shop_paying_at(url: &str) -> PayingShop {
    let mut shop = spawn_paying_shop(|s| {
        s.services = vec![ServiceName::Orders, ServiceName::Notifications];
        s.payments.payments_url = Some(url.to_owned());
    })
    .await;
    let channel = Channel::from_shared(url.to_owned()).unwrap().connect_lazy();
    shop.clients.payments = PaymentServiceClient::new(channel);
    shop
}

/// [`ORDERS`] orders of 1 to 3 mugs, every other one with a declined card.
async fn place_mix(shop: &ShopClients, product: &str) -> Vec<proto::Order> {
    let mut placed = Vec::new();
    for i in 0..ORDERS {
        let method = if i % 2 == 0 { VISA } else { DECLINED };
        placed.push(shop.place(product, 1 + (i % 3) as i32, method).await);
    }
    placed
}

/// Where each of `placed` is now: its state and its payment's status.
async fn states(shop: &ShopClients, placed: &[proto::Order]) -> Vec<(proto::OrderState, Option<PaymentStatus>)> {
    let mut states = Vec::new();
    for order in placed {
        let now = shop.get(&order.order_id).await.order.unwrap();
        states.push((now.state(), now.payment.as_ref().map(|p| p.status())));
    }
    states
}

fn method(order: &proto::Order) -> &str {
    order.payment.as_ref().map_or("", |p| p.payment_method.as_str())
}

/// The units of the orders that are paid for: what leaves the stock.
fn units_paid(placed: &[proto::Order]) -> i64 {
    let paid = placed.iter().filter(|o| method(o) == VISA);
    paid.flat_map(|o| &o.line_items).map(|l| i64::from(l.quantity)).sum()
}

/// kill -9 of `server` as soon as one of `placed` is paid: the saga is
/// under way, the orders after it not yet charged.
async fn kill_once_one_is_paid(shop: &ShopClients, placed: &[proto::Order], server: Server) {
    let paid = async || {
        for order in placed {
            if shop.get(&order.order_id).await.order.unwrap().state() == Paid {
                return true;
            }
        }
        false
    };
    eventually(30, "an order paid", paid).await;
    let log = server.kill().await;
    assert!(!log.contains("panicked"), "{log}");
}

/// Waits for each order to end as its card says, then checks what it went
/// through: its history, one step each; one payment, whose ledger holds its
/// total authorized once and, for a card that works, captured once; and
/// the money conserved (nothing refunded, nothing left held).
async fn assert_each_ended_as_its_card_says(shop: &ShopClients, placed: &[proto::Order]) {
    for order in placed {
        let id = &order.order_id;
        let total = order.total.clone().unwrap();
        let movement = |kind: &str| (format!("MOVEMENT_KIND_{kind}"), total.units, total.nanos);
        let placed_step = (Unspecified, Placed, String::new(), "none".to_owned());
        let (ended, steps, ledger) = if method(order) == VISA {
            let ended = shop.wait_for(id, Paid, PaymentStatus::Captured).await;
            let steps = vec![
                placed_step,
                (Placed, Placed, "PAYMENT_AUTHORIZED".to_owned(), "system".to_owned()),
                (Placed, Paid, String::new(), "system".to_owned()),
            ];
            (ended, steps, vec![movement("AUTHORIZED"), movement("CAPTURED")])
        } else {
            let ended = shop.wait_for(id, Cancelled, PaymentStatus::Declined).await;
            let cancelled = (Placed, Cancelled, "PAYMENT_DECLINED".to_owned(), "system".to_owned());
            (ended, vec![placed_step, cancelled], vec![movement("FAILED")])
        };
        assert_eq!(history(&ended), steps, "{id}");
        assert_eq!(shop.ledger(id).await, ledger, "{id}");
        assert_eq!(shop.payments_of(id).await.len(), 1, "{id}");
        assert_money_conserved(shop, &ended.order.unwrap()).await;
    }
}

/// The payment service alone, as its own process on its own database at
/// `addr`, each processor call taking 300 ms.
async fn start_payments(database_url: &str, addr: &str) -> Server {
    let args = [
        "--services",
        "payments",
        "--payments-addr",
        addr,
        "--payment-processor-delay",
        "300ms",
    ];
    let env = [("RUST_LOG", "info"), ("ORDERS_PAYMENTS_DATABASE_URL", database_url)];
    let server = Server::start(database_url, &args, &env);
    within(30, server.wait_for_log("orders is serving gRPC")).await;
    server
}

/// The orders service alone, as its own process on its own database at
/// `addr`, calling the payment service at `payments_url`; with clients.
async fn start_orders(database_url: &str, addr: &str, payments_url: &str) -> (Server, Clients) {
    let args = ["--addr", addr, "--payments-url", payments_url];
    let server = Server::start(database_url, &args, &[("RUST_LOG", "info")]);
    within(30, server.wait_for_log("orders is serving gRPC")).await;
    let channel = connect_channel(addr.parse().unwrap()).await;
    (server, Clients::new(channel, Bearer::default()))
}
