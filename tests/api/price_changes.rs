//! Prices that change: an order keeps the prices (and names) it was placed
//! with; a server process with the old price cached places the next order at
//! the new one; and while orders race in through two server processes on
//! one database, no order commits at a price older than the change that
//! committed before it.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use diesel::{
    QueryableByName,
    sql_types::{BigInt, Integer, Text},
};
use orders::proto;
use tokio::sync::mpsc;

use crate::{
    api_calls::{create_product, get_order, history, place_order, stock_of},
    app::{Bearer, Clients, Orders, TestApp, connect_channel, spawn_app, spawn_replica},
    assertions::show_money,
    binary::Server,
    catalog_admin::{changes_to, try_update, update_price, update_request},
    direct_sql::query_n,
    local_machine::free_port,
    requests::{money, order_request},
    timing::within,
};

/// A line as `"<sku> <name> x<quantity> @ <unit price> = <line total>"`.
fn show_line(line: &proto::LineItem) -> String {
    let (unit, total) = (show_money(&line.unit_price), show_money(&line.line_total));
    format!("{} {} x{} @ {unit} = {total}", line.sku, line.name, line.quantity)
}

fn show_lines(order: &proto::Order) -> Vec<String> {
    order.line_items.iter().map(show_line).collect()
}

#[tokio::test]
async fn an_order_keeps_the_prices_and_names_it_was_placed_with() {
    let app = spawn_app().await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 10).await;
    let mug = create_product(&app, "MUG", (2, 500_000_000, "EUR"), 10).await;
    let lines = [(tea.product_id.as_str(), 3), (mug.product_id.as_str(), 1)];
    let before = place_order(&app, "ada", &lines).await;
    let change = proto::Product {
        name: "Green tea".into(),
        price: Some(money("EUR", 5, 500_000_000)),
        ..changes_to(&tea.product_id)
    };
    try_update(&app.catalog, update_request(change, &["name", "price"]))
        .await
        .unwrap();
    let after = place_order(&app, "ada", &lines).await;

    assert_eq!(
        show_lines(&before),
        [
            "TEA Product TEA x3 @ EUR 4.000000000 = EUR 12.000000000",
            "MUG Product MUG x1 @ EUR 2.500000000 = EUR 2.500000000",
        ]
    );
    assert_eq!(show_money(&before.total), "EUR 14.500000000");
    assert_eq!(get_order(&app, &before.order_id).await, before, "as placed");
    assert_eq!(
        show_lines(&after),
        [
            "TEA Green tea x3 @ EUR 5.500000000 = EUR 16.500000000",
            "MUG Product MUG x1 @ EUR 2.500000000 = EUR 2.500000000",
        ]
    );
    assert_eq!(show_money(&after.total), "EUR 19.000000000");
    let orders = history(&app, "ada", 0, "").await.unwrap().orders;
    assert_eq!(orders, [after, before]);
}

#[tokio::test]
async fn a_server_with_the_old_price_cached_orders_at_the_new_one() {
    let app = spawn_app().await;
    let replica = spawn_replica(&app, |_| {}).await;
    let tea = create_product(&app, "TEA", (4, 0, "EUR"), 100).await.product_id;
    let old = place_order(&replica, "ada", &[(&tea, 2)]).await;
    assert_eq!(
        show_lines(&old),
        ["TEA Product TEA x2 @ EUR 4.000000000 = EUR 8.000000000"]
    );

    // Changed through the first server; the replica still has 4.00 cached.
    update_price(&app.catalog, &tea, (5, 0, "EUR")).await;
    let new = place_order(&replica, "ada", &[(&tea, 2)]).await;
    assert_eq!(
        show_lines(&new),
        ["TEA Product TEA x2 @ EUR 5.000000000 = EUR 10.000000000"]
    );
    assert_eq!(get_order(&app, &new.order_id).await, new);

    // And the other way round.
    update_price(&replica.catalog, &tea, (3, 0, "EUR")).await;
    let newer = place_order(&app, "ada", &[(&tea, 2)]).await;
    assert_eq!(
        show_lines(&newer),
        ["TEA Product TEA x2 @ EUR 3.000000000 = EUR 6.000000000"]
    );
    assert_eq!(stock_of(&app, &tea).await, 94);
}

/// Workers placing orders through each server while the price changes.
const WORKERS_PER_SERVER: usize = 4;
/// Orders each server completes before the change is sent, and after it
/// has been answered: more than its workers can have had in flight, so
/// that some were sent after the change committed.
const ORDERS_EACH_SIDE: usize = 25;
const OLD_PRICE: (i64, i32) = (4, 250_000_000);
const NEW_PRICE: (i64, i32) = (5, 750_000_000);

#[tokio::test]
async fn no_order_is_placed_at_a_price_older_than_the_change() {
    let app = spawn_app().await;
    // The second server process: the real binary, on the same database.
    let addr = format!("127.0.0.1:{}", free_port());
    let binary = Server::start(&app.db_url, &["--addr", &addr], &[("RUST_LOG", "info")]);
    within(30, binary.wait_for_log("orders is serving gRPC")).await;
    let other = Clients::new(connect_channel(addr.parse().unwrap()).await, Bearer::default());
    let tea = create_product(&app, "TEA", (OLD_PRICE.0, OLD_PRICE.1, "EUR"), 100_000).await;
    let id = tea.product_id.clone();
    // Both servers have the old price cached.
    let servers = [app.orders.clone(), other.orders.clone()];
    for server in &servers {
        let warm = server.clone().create_order(order_request("warm", &[(&id, 1)])).await;
        assert_eq!(price_of(&warm.unwrap().into_inner().order.unwrap()), OLD_PRICE);
    }

    let race = Race::start(&servers, &id);
    let mut done = race.done;
    within(60, wait_for_orders(&mut done, ORDERS_EACH_SIDE)).await;
    let changed = update_price(&app.catalog, &id, (NEW_PRICE.0, NEW_PRICE.1, "EUR")).await;
    while done.try_recv().is_ok() {}
    within(60, wait_for_orders(&mut done, ORDERS_EACH_SIDE)).await;
    race.stop.store(true, Ordering::Relaxed);
    let mut placed = HashMap::new();
    let mut failed = Vec::new();
    for worker in race.workers {
        for (server, result) in within(30, worker).await.unwrap() {
            match result {
                Ok(order) => drop(placed.insert(order.order_id.clone(), (server, order))),
                Err(status) => failed.push(format!("server {server}: {:?} {}", status.code(), status.message())),
            }
        }
    }
    assert_eq!(failed, Vec::<String>::new(), "every order succeeds");
    assert_eq!(changed.price, Some(money("EUR", NEW_PRICE.0, NEW_PRICE.1)));

    // Commit order: each order's ORDER_CREATED row and the change's
    // PRODUCT_UPDATED row were written under the product's row lock, so
    // their ids are in the order the transactions committed.
    let change = format!("SELECT id AS n FROM audit_events WHERE action = 'PRODUCT_UPDATED' AND resource_id = '{id}'");
    let change = query_n(&app, &change).await;
    let lines = stored_lines(&app, &id).await;
    assert_eq!(
        lines.len(),
        placed.len() + 2,
        "every order answered was stored, with the warm-ups"
    );
    let mut sides: HashMap<(usize, bool), usize> = HashMap::new();
    let mut wrong = Vec::new();
    for line in &lines {
        let after = line.audit_id > change;
        let expected = if after { NEW_PRICE } else { OLD_PRICE };
        let stored = (line.units, line.nanos);
        if stored != expected || (line.total_units, line.total_nanos) != expected {
            wrong.push(format!("{} (after the change: {after}) at {stored:?}", line.order_id));
        }
        if let Some((server, answered)) = placed.get(&line.order_id) {
            assert_eq!(price_of(answered), stored, "the answer shows what was stored");
            *sides.entry((*server, after)).or_default() += 1;
        }
    }
    assert_eq!(
        wrong,
        Vec::<String>::new(),
        "each order at the price current when it committed"
    );
    for server in 0..2 {
        for after in [false, true] {
            let n = sides.get(&(server, after)).copied().unwrap_or(0);
            assert!(
                n >= 1,
                "server {server} placed {n} orders with after = {after}: {sides:?}"
            );
        }
    }
    assert_eq!(stock_of(&app, &id).await, 100_000 - lines.len() as i64);
    binary.stop().await;
}

/// The unit price of an order's one line.
fn price_of(order: &proto::Order) -> (i64, i32) {
    let price = order.line_items[0].unit_price.as_ref().expect("a unit price");
    assert_eq!(price.currency_code, "EUR");
    (price.units, price.nanos)
}

/// Workers ordering one unit each, again and again, through their server,
/// until `stop` (or their first failure, which stops them all). Each
/// answer is sent on `done` as the index of the server that gave it.
struct Race {
    stop: Arc<AtomicBool>,
    done: mpsc::UnboundedReceiver<usize>,
    workers: Vec<tokio::task::JoinHandle<Vec<Answer>>>,
}

/// The index of the server that answered, and its answer.
type Answer = (usize, Result<proto::Order, tonic::Status>);

impl Race {
    fn start(servers: &[Orders; 2], product_id: &str) -> Race {
        let stop = Arc::new(AtomicBool::new(false));
        let (sender, done) = mpsc::unbounded_channel();
        let workers = (0..2 * WORKERS_PER_SERVER)
            .map(|w| {
                let server = w % 2;
                let (mut client, stop, sender) = (servers[server].clone(), stop.clone(), sender.clone());
                let request = order_request(&format!("buyer-{w}"), &[(product_id, 1)]);
                tokio::spawn(async move {
                    let mut results = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let result = client.create_order(request.clone()).await;
                        let result = result.map(|r| r.into_inner().order.expect("an order"));
                        if result.is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                        results.push((server, result));
                        let _ = sender.send(server);
                    }
                    results
                })
            })
            .collect();
        Race { stop, done, workers }
    }
}

/// Waits until each server has answered `n` more orders (or every worker
/// has stopped).
async fn wait_for_orders(done: &mut mpsc::UnboundedReceiver<usize>, n: usize) {
    let mut answered = [0; 2];
    while answered.iter().any(|&a| a < n) {
        match done.recv().await {
            Some(server) => answered[server] += 1,
            None => return,
        }
    }
}

/// An order line of a product, with its order's total and the id of the
/// order's ORDER_CREATED audit row.
#[derive(Debug, QueryableByName)]
struct StoredLine {
    #[diesel(sql_type = Text)]
    order_id: String,
    #[diesel(sql_type = BigInt)]
    audit_id: i64,
    #[diesel(sql_type = BigInt)]
    units: i64,
    #[diesel(sql_type = Integer)]
    nanos: i32,
    #[diesel(sql_type = BigInt)]
    total_units: i64,
    #[diesel(sql_type = Integer)]
    total_nanos: i32,
}

/// Every order line of `product_id`, in commit order.
async fn stored_lines(app: &TestApp, product_id: &str) -> Vec<StoredLine> {
    // Here only: its `load` would shadow `AtomicBool::load` above.
    use diesel_async::RunQueryDsl;
    let mut conn = app.pool.get().await.unwrap();
    diesel::sql_query(format!(
        "SELECT o.id::text AS order_id, a.id AS audit_id, \
                l.unit_price_units AS units, l.unit_price_nanos AS nanos, o.total_units, o.total_nanos \
         FROM order_line_items l \
         JOIN orders o ON o.id = l.order_id \
         JOIN audit_events a ON a.resource_id = o.id AND a.action = 'ORDER_CREATED' \
         WHERE l.product_id = '{product_id}' \
         ORDER BY a.id"
    ))
    .load(&mut conn)
    .await
    .unwrap()
}
