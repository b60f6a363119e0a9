//! `orders-seed`: fills a database with realistic data for benchmarks, fast.
//!
//! Everything is set-based SQL ([`SEED_SQL`]) run in batches of orders, so
//! a million orders with their line items take seconds rather than the
//! hours one RPC per order would. Products and customers follow
//! `orders-load`'s names (`load-000000`, `cust-000000`), so the load
//! generator finds them. Running it again adds more orders.
//!
//! All batches run in one transaction, with the indexes that back no
//! constraint dropped first and built again at the end from their own
//! definitions (`pg_get_indexdef`): building an index once is far cheaper
//! than a million inserts at random places in it. DROP INDEX is
//! transactional, so a seed that fails half-way leaves the database as it
//! was, indexes included.
//!
//! On a terminal, stderr shows the progress of each phase (orders per
//! second and the time left, then the index rebuild); elsewhere (a pipe, a
//! log file) there is none, and stdout has one line per batch as before.
//!
//! ```sh
//! cargo run --release --bin orders-seed -- --orders 1000000
//! ```

use std::time::Instant;

use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use indicatif::{ProgressBar, ProgressStyle};
use orders::{config::DatabaseSettings, db, startup};

/// The SQL of one batch; `:name` placeholders are replaced by integers.
const SEED_SQL: &str = include_str!("seed.sql");

#[derive(Debug, Parser)]
#[command(about = "Fill an orders database with products, customers and orders")]
struct Args {
    #[command(flatten)]
    database: DatabaseSettings,
    /// Products in the catalog (created if missing).
    #[arg(long, default_value_t = 10_000)]
    products: u32,
    /// Distinct customers the orders are spread over.
    #[arg(long, default_value_t = 10_000)]
    customers: u32,
    /// Orders to add.
    #[arg(long, default_value_t = 1_000_000)]
    orders: u32,
    /// Orders per statement batch.
    #[arg(long, default_value_t = 100_000)]
    batch: u32,
}

/// The indexes of the seeded tables that back no constraint (primary keys
/// and unique constraints stay: the seed relies on them).
const SECONDARY_INDEXES: &str = "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition \
     FROM pg_index i \
     WHERE i.indrelid IN ('orders'::regclass, 'order_line_items'::regclass, 'audit_events'::regclass) \
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)";

#[derive(diesel::QueryableByName)]
struct Index {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    let url = startup::database_url(&args.database).await?;
    db::migrations::run(&url).await?;
    let mut conn = AsyncPgConnection::establish(&url).await?;
    let started = Instant::now();
    let existing: Count = diesel::sql_query("SELECT count(*) AS n FROM orders")
        .get_result(&mut conn)
        .await?;
    // The rows are consistent by construction, so the foreign-key triggers
    // (one lookup per line item) are skipped: `session_replication_role`.
    conn.batch_execute(
        "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL session_replication_role = replica; \
         SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '512MB'",
    )
    .await?;
    let indexes: Vec<Index> = diesel::sql_query(SECONDARY_INDEXES).load(&mut conn).await?;
    for index in &indexes {
        conn.batch_execute(&format!("DROP INDEX {}", index.name)).await?;
    }
    let bar = progress(u64::from(args.orders), "orders (with products, customers, lines)");
    let mut done = 0;
    while done < args.orders {
        let size = args.batch.min(args.orders - done);
        conn.batch_execute(&batch_sql(&args, existing.n as u64 + u64::from(done), size))
            .await?;
        done += size;
        bar.inc(u64::from(size));
        bar.suspend(|| println!("{done} orders in {:.1} s", started.elapsed().as_secs_f64()));
    }
    bar.finish();
    let bar = progress(indexes.len() as u64, "indexes rebuilt");
    for index in &indexes {
        bar.set_message(index.name.clone());
        conn.batch_execute(&index.definition).await?;
        bar.inc(1);
    }
    bar.finish_with_message("indexes rebuilt");
    conn.batch_execute("COMMIT; ANALYZE products; ANALYZE orders; ANALYZE order_line_items; ANALYZE audit_events")
        .await?;
    let total: Count = diesel::sql_query("SELECT count(*) AS n FROM orders")
        .get_result(&mut conn)
        .await?;
    println!(
        "seeded {} orders in {:.1} s; the database now holds {} orders",
        args.orders,
        started.elapsed().as_secs_f64(),
        total.n
    );
    Ok(())
}

/// A bar for one phase on stderr, drawn only when stderr is a terminal
/// (indicatif hides it otherwise): done/total, rate, time left.
fn progress(total: u64, what: &'static str) -> ProgressBar {
    let style =
        ProgressStyle::with_template("{prefix} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta} {wide_msg}")
            .expect("a valid template")
            .progress_chars("=> ");
    ProgressBar::new(total).with_style(style).with_prefix(what)
}

/// The SQL for `size` orders numbered from `offset + 1`.
fn batch_sql(args: &Args, offset: u64, size: u32) -> String {
    SEED_SQL
        .replace(":products", &args.products.to_string())
        .replace(":customers", &args.customers.max(1).to_string())
        .replace(":orders", &size.to_string())
        .replace(":offset", &offset.to_string())
}
