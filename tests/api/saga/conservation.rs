//! Money is conserved: whatever mix of placements, declines, cancels,
//! ships and timeouts many callers make at once, in the end every order
//! paid by card that is PAID or SHIPPED has exactly its total captured and
//! not refunded, and every cancelled one has had back all that was taken;
//! no hold is left; the stock adds up.

use std::{collections::HashMap, time::Duration};

use orders::proto::{self, OrderState, PaymentStatus};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{PayingShop, ShopClients, spawn_paying_shop};
use crate::{
    api_calls::{cancel, stock_of},
    direct_sql::query_n,
    requests::order_request,
    timing::{concurrently, eventually},
};

const TASKS: usize = 8;
const ORDERS_PER_TASK: usize = 8;
const METHODS: [&str; 5] = [
    "pm_card_visa",
    "pm_card_mastercard",
    "pm_card_chargeDeclined",
    "pm_card_chargeDeclinedInsufficientFunds",
    "",
];

#[tokio::test]
async fn captured_minus_refunded_is_each_orders_total_if_it_ships_and_zero_if_cancelled() {
    // Slow enough that the saga's jobs queue up and some orders time out
    // while others are paid, cancelled or shipped at the same moment.
    let shop = spawn_paying_shop(|s| {
        s.payments.payment_timeout = Duration::from_secs(2);
        s.payments.payment_processor_delay = Duration::from_millis(150);
    })
    .await;
    let products = [
        shop.product("MUG", 1_000).await,
        shop.product("TEA", 1_000).await,
        shop.product("POT", 1_000).await,
    ];
    let shop = std::sync::Arc::new(shop);
    let placed = concurrently(TASKS, |task| {
        let (shop, products) = (shop.clone(), products.clone());
        async move { run_customer(&shop, &products, task).await }
    })
    .await;
    let placed: Vec<proto::Order> = placed.into_iter().flatten().collect();
    wait_until_the_saga_is_done(&shop).await;

    let mut units_kept: HashMap<String, i64> = HashMap::new();
    for order in &placed {
        let now = shop.get(&order.order_id).await.order.unwrap();
        assert_money_conserved(&shop, &now).await;
        if now.state() != OrderState::Cancelled {
            for line in &now.line_items {
                *units_kept.entry(line.product_id.clone()).or_default() += i64::from(line.quantity);
            }
        }
    }
    for product in &products {
        let kept = units_kept.get(product).copied().unwrap_or(0);
        assert_eq!(stock_of(&shop.app, product).await, 1_000 - kept, "stock of {product}");
    }
}

/// One customer: places orders with random methods, and cancels or ships
/// some of them at once or a little later.
async fn run_customer(shop: &PayingShop, products: &[String], task: usize) -> Vec<proto::Order> {
    let mut rng = StdRng::seed_from_u64(task as u64);
    let customer = format!("customer-{task}");
    let mut placed = Vec::new();
    for _ in 0..ORDERS_PER_TASK {
        let product = &products[rng.random_range(0..products.len())];
        let mut request = order_request(&customer, &[(product, rng.random_range(1..=3))]);
        request.payment_method = METHODS[rng.random_range(0..METHODS.len())].to_owned();
        let order = shop
            .app
            .orders
            .clone()
            .create_order(request)
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..400))).await;
        match rng.random_range(0..3) {
            0 => drop(cancel(&shop.app, &order.order_id, &customer, "").await),
            1 => drop(shop.ship(&order.order_id).await),
            _ => {}
        }
        placed.push(order);
    }
    placed
}

/// Waits until no saga job is left to run: every payment has its answer.
async fn wait_until_the_saga_is_done(shop: &PayingShop) {
    let sql = "SELECT count(*) AS n FROM jobs WHERE kind IN ('charge_order', 'payment_timeout', 'settle_payment') \
               AND state IN ('pending', 'running')";
    eventually(90, "the saga's jobs all done", || async {
        query_n(&shop.app, sql).await == 0
    })
    .await;
    let failed = "SELECT count(*) AS n FROM jobs WHERE state = 'failed'";
    assert_eq!(query_n(&shop.app, failed).await, 0, "no saga job failed for good");
}

/// The ledger of `order`'s payments against what the order became.
pub(super) async fn assert_money_conserved(shop: &ShopClients, order: &proto::Order) {
    let nanos = |m: &Option<proto::Money>| {
        let m = m.clone().unwrap_or_default();
        i128::from(m.units) * 1_000_000_000 + i128::from(m.nanos)
    };
    let payments = shop.payments_of(&order.order_id).await;
    let captured: i128 = payments.iter().map(|p| nanos(&p.amount_captured)).sum();
    let refunded: i128 = payments.iter().map(|p| nanos(&p.amount_refunded)).sum();
    let held: i128 = payments.iter().map(|p| nanos(&p.amount_authorized)).sum();
    let kept = captured - refunded;
    let Some(payment) = &order.payment else {
        assert!(
            payments.is_empty(),
            "an order paid on delivery has no payment: {order:?}"
        );
        return;
    };
    let expected = match order.state() {
        OrderState::Paid | OrderState::Shipped => nanos(&order.total),
        OrderState::Cancelled => 0,
        other => panic!(
            "order {} is still {other:?} with its payment {:?}",
            order.order_id,
            payment.status()
        ),
    };
    assert_eq!(
        kept,
        expected,
        "captured − refunded of {} ({:?}): {payments:?}",
        order.order_id,
        order.state()
    );
    assert_eq!(held, 0, "a hold is left on {}: {payments:?}", order.order_id);
    let settled = [
        PaymentStatus::Captured,
        PaymentStatus::Declined,
        PaymentStatus::Released,
        PaymentStatus::Refunded,
    ];
    assert!(settled.contains(&payment.status()), "{order:?}");
}
