//! Conservation under randomized mixed work: many workers create orders,
//! retry them, cancel, ship and restock at once, and every reply is checked
//! against a simple model. Afterwards, for every product:
//! initial stock + restocks = stock now + units in orders not cancelled.
//!
//! Each worker is its own customer and the only one to touch its orders, so
//! the model knows exactly what each cancel, ship and retry must answer. Only
//! whether a create finds enough stock depends on the other workers, so the
//! model accepts OK or INSUFFICIENT_STOCK there, and checks the order if OK.
//! The run is reproducible: set `ORDERS_TEST_SEED` to the seed a failure
//! prints.

use std::{collections::HashMap, sync::Arc};

use orders::proto::{self, OrderState};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use tonic::Code;

use crate::{
    api_calls::{create_product, get_order, stock_of},
    app::{self, Orders, spawn_app},
    assertions::assert_error,
    direct_sql::count_rows,
    requests::{cancel_request, keyed_order_request, request_id},
    timing::within,
};

const WORKERS: u64 = 8;
const STEPS: usize = 40;
const PRODUCTS: i64 = 5;
const INITIAL_STOCK: i64 = 15;

/// A product's id and unit price in nanos (every price is `i + 0.25` EUR).
type Catalog = Arc<Vec<(String, i64)>>;

/// An order the model knows about.
struct Tracked {
    request: proto::CreateOrderRequest,
    first_reply: proto::Order,
    state: OrderState,
}

/// What one worker did, for the final accounting.
#[derive(Default)]
struct Log {
    orders: Vec<Tracked>,
    restocked: HashMap<String, i64>,
}

struct Worker {
    orders: Orders,
    catalog: app::Catalog,
    products: Catalog,
    customer: String,
    rng: StdRng,
    seed: u64,
    log: Log,
}

#[tokio::test]
async fn stock_is_conserved_and_every_reply_agrees_with_the_model() {
    let seed: u64 = std::env::var("ORDERS_TEST_SEED").map_or_else(|_| rand::random(), |s| s.parse().unwrap());
    let app = spawn_app().await;
    let mut products = Vec::new();
    for i in 0..PRODUCTS {
        let product = create_product(&app, &format!("P{i}"), (i + 1, 250_000_000, "EUR"), INITIAL_STOCK).await;
        products.push((product.product_id, (i + 1) * 1_000_000_000 + 250_000_000));
    }
    let products: Catalog = Arc::new(products);
    let workers = (0..WORKERS).map(|w| {
        let worker = Worker {
            orders: app.orders.clone(),
            catalog: app.catalog.clone(),
            products: products.clone(),
            customer: format!("worker-{w}"),
            rng: StdRng::seed_from_u64(seed.wrapping_add(w)),
            seed,
            log: Log::default(),
        };
        tokio::spawn(worker.run())
    });
    let mut logs = Vec::new();
    for worker in workers.collect::<Vec<_>>() {
        logs.push(within(60, worker).await.unwrap_or_else(|e| panic!("seed {seed}: {e}")));
    }

    let orders: Vec<&Tracked> = logs.iter().flat_map(|log| &log.orders).collect();
    assert_eq!(count_rows(&app, "orders").await, orders.len() as i64, "seed {seed}");
    for tracked in &orders {
        let stored = get_order(&app, &tracked.first_reply.order_id).await;
        assert_eq!(stored.state(), tracked.state, "seed {seed}: {}", stored.order_id);
    }
    for (id, _) in products.iter() {
        let restocked: i64 = logs.iter().filter_map(|log| log.restocked.get(id)).sum();
        let held: i64 = (orders.iter().filter(|o| o.state != OrderState::Cancelled))
            .flat_map(|o| &o.request.line_items)
            .filter(|line| &line.product_id == id)
            .map(|line| i64::from(line.quantity))
            .sum();
        let now = stock_of(&app, id).await;
        assert_eq!(INITIAL_STOCK + restocked, now + held, "seed {seed}: product {id}");
    }
}

impl Worker {
    async fn run(mut self) -> Log {
        for _ in 0..STEPS {
            match self.rng.random_range(0..100) {
                0..40 => self.create().await,
                40..55 => self.retry().await,
                55..70 => self.cancel().await,
                70..85 => self.ship().await,
                _ => self.restock().await,
            }
        }
        self.log
    }

    /// A new order of 1–3 distinct products, 1–4 units each.
    async fn create(&mut self) {
        let count = self.rng.random_range(1..=3);
        let chosen: Vec<(String, i64)> = self.products.choose_multiple(&mut self.rng, count).cloned().collect();
        let lines: Vec<(&str, i32)> = (chosen.iter())
            .map(|(id, _)| (id.as_str(), self.rng.random_range(1..=4)))
            .collect();
        let request = keyed_order_request(&self.customer, &lines);
        match self.orders.create_order(request.clone()).await {
            Ok(reply) => {
                let order = reply.into_inner().order.unwrap();
                self.check_new_order(&request, &chosen, &order);
                let state = OrderState::Placed;
                self.log.orders.push(Tracked {
                    request,
                    first_reply: order,
                    state,
                });
            }
            Err(status) => self.expect_error(&status, Code::FailedPrecondition, "INSUFFICIENT_STOCK"),
        }
    }

    /// The order has exactly the requested lines, priced from the catalog.
    fn check_new_order(&self, request: &proto::CreateOrderRequest, chosen: &[(String, i64)], order: &proto::Order) {
        let seed = self.seed;
        assert_eq!(order.state(), OrderState::Placed, "seed {seed}");
        assert_eq!(order.line_items.len(), request.line_items.len(), "seed {seed}");
        let mut total = 0;
        for ((asked, line), (_, price)) in request.line_items.iter().zip(&order.line_items).zip(chosen) {
            assert_eq!(
                (&line.product_id, line.quantity),
                (&asked.product_id, asked.quantity),
                "seed {seed}"
            );
            let line_total = price * i64::from(asked.quantity);
            assert_eq!(nanos(&line.line_total), line_total, "seed {seed}");
            total += line_total;
        }
        assert_eq!(nanos(&order.total), total, "seed {seed}");
    }

    /// The same request again: the first reply, whatever happened since.
    async fn retry(&mut self) {
        let Some(i) = self.pick_order() else { return };
        let request = self.log.orders[i].request.clone();
        let reply = self.orders.create_order(request).await;
        let order = reply.unwrap_or_else(|s| panic!("seed {}: retry failed: {s:?}", self.seed));
        assert_eq!(
            order.into_inner().order.as_ref(),
            Some(&self.log.orders[i].first_reply),
            "seed {}",
            self.seed
        );
    }

    async fn cancel(&mut self) {
        let Some(i) = self.pick_order() else { return };
        let id = self.log.orders[i].first_reply.order_id.clone();
        let reply = self
            .orders
            .cancel_order(cancel_request(&id, &self.customer, "changed my mind"))
            .await;
        let reply = reply.map(|r| r.into_inner().order.unwrap());
        self.expect_transition(
            i,
            reply,
            OrderState::Cancelled,
            OrderState::Shipped,
            "ORDER_NOT_CANCELLABLE",
        );
    }

    async fn ship(&mut self) {
        let Some(i) = self.pick_order() else { return };
        let order_id = self.log.orders[i].first_reply.order_id.clone();
        let reply = self.orders.ship_order(proto::ShipOrderRequest { order_id }).await;
        let reply = reply.map(|r| r.into_inner().order.unwrap());
        self.expect_transition(
            i,
            reply,
            OrderState::Shipped,
            OrderState::Cancelled,
            "ORDER_NOT_SHIPPABLE",
        );
    }

    /// A placed order moves to `target`; one already there stays; one in
    /// `blocking` is refused with `reason`.
    fn expect_transition(
        &mut self,
        i: usize,
        reply: Result<proto::Order, tonic::Status>,
        target: OrderState,
        blocking: OrderState,
        reason: &str,
    ) {
        let tracked = &mut self.log.orders[i];
        if tracked.state == blocking {
            let status = reply.expect_err("a refused transition");
            return self.expect_error(&status, Code::FailedPrecondition, reason);
        }
        let order = reply.unwrap_or_else(|s| panic!("seed {}: {s:?}", self.seed));
        assert_eq!(order.state(), target, "seed {}", self.seed);
        tracked.state = target;
    }

    /// Adds 1–20 units; half the time the same request is sent twice,
    /// which must not add them twice.
    async fn restock(&mut self) {
        let (id, _) = self.products.choose(&mut self.rng).unwrap().clone();
        let quantity = self.rng.random_range(1..=20);
        let request = proto::RestockProductRequest {
            product_id: id.clone(),
            quantity,
            request_id: request_id(),
        };
        let first = self.catalog.restock_product(request.clone()).await;
        let first = first
            .unwrap_or_else(|s| panic!("seed {}: restock failed: {s:?}", self.seed))
            .into_inner();
        if self.rng.random_bool(0.5) {
            let again = self
                .catalog
                .restock_product(request)
                .await
                .expect("a replayed restock")
                .into_inner();
            assert_eq!(again, first, "seed {}: a retry replays the first reply", self.seed);
        }
        *self.log.restocked.entry(id).or_default() += quantity;
    }

    fn pick_order(&mut self) -> Option<usize> {
        let n = self.log.orders.len();
        (n > 0).then(|| self.rng.random_range(0..n))
    }

    fn expect_error(&self, status: &tonic::Status, code: Code, reason: &str) {
        assert_eq!(status.code(), code, "seed {}: {status:?}", self.seed);
        assert_error(status, code, reason);
    }
}

/// An amount in EUR nanos.
fn nanos(money: &Option<proto::Money>) -> i64 {
    let money = money.as_ref().expect("an amount");
    assert_eq!(money.currency_code, "EUR");
    money.units * 1_000_000_000 + i64::from(money.nanos)
}
