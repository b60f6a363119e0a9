//! `orders-seed`: fills a database with realistic data for benchmarks, fast.
//!
//! Everything is set-based SQL: the catalog in one statement
//! ([`PRODUCTS_SQL`]), then the orders in batches ([`SEED_SQL`]), so a
//! million orders with their line items take seconds rather than the hours
//! one RPC per order would. Products and customers follow `orders-load`'s
//! names (`load-000000`, `cust-000000`), so the load generator finds them.
//! Running it again adds more orders (`--orders 0`: none, only the missing
//! products). Product names and descriptions are made of the word lists in
//! [`words`], which `orders-load`'s search queries are made of too.
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
//! cargo run --release --bin orders-seed -- --products 100000 --orders 0
//! ```

mod words;

use std::time::{Duration, Instant};

use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use indicatif::{ProgressBar, ProgressStyle};
use orders::{config::DatabaseSettings, db, startup};

/// The SQL of one batch of orders; `:name` placeholders are replaced by integers.
const SEED_SQL: &str = include_str!("seed.sql");

/// The SQL that creates the missing products; `:products` is replaced by
/// an integer, the word lists' placeholders by arrays ([`products_sql`]).
const PRODUCTS_SQL: &str = include_str!("products.sql");

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
    /// Orders to add (0: only create the missing products).
    #[arg(long, default_value_t = 1_000_000)]
    orders: u32,
    /// Orders per statement batch.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
}

/// The indexes of the seeded tables that back no constraint (primary keys
/// and unique constraints stay: the seed relies on them). The products'
/// are the text-search ones: a GIN index built once from 100,000 rows takes
/// a second or two, where as many inserts into it take many times that.
const SECONDARY_INDEXES: &str = "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition \
     FROM pg_index i \
     WHERE i.indrelid IN ('products'::regclass, 'orders'::regclass, 'order_line_items'::regclass, \
                          'audit_events'::regclass) \
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
    let existing = count(&mut conn, "orders").await?;
    conn.batch_execute(
        "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL work_mem = '256MB'; \
         SET LOCAL maintenance_work_mem = '512MB'",
    )
    .await?;
    let indexes: Vec<Index> = diesel::sql_query(SECONDARY_INDEXES).load(&mut conn).await?;
    for index in &indexes {
        conn.batch_execute(&format!("DROP INDEX {}", index.name)).await?;
    }
    // The products first, with triggers on: theirs computes each product's
    // search document (a column that may not be null).
    let before = count(&mut conn, "products").await?;
    let spinner =
        ProgressBar::new_spinner().with_message(format!("products: creating the missing ones (of {})", args.products));
    spinner.enable_steady_tick(Duration::from_millis(200));
    conn.batch_execute(&products_sql(args.products)).await?;
    spinner.finish_and_clear();
    let created = count(&mut conn, "products").await? - before;
    println!("{created} products created in {:.1} s", started.elapsed().as_secs_f64());
    // The orders' rows are consistent by construction, so the foreign-key
    // triggers (one lookup per line item) are skipped from here on:
    // `session_replication_role`.
    conn.batch_execute("SET LOCAL session_replication_role = replica")
        .await?;
    let bar = progress(u64::from(args.orders), "orders (with customers, lines)");
    let mut done = 0;
    while done < args.orders {
        let size = args.batch.min(args.orders - done);
        conn.batch_execute(&batch_sql(&args, existing as u64 + u64::from(done), size))
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
    println!(
        "seeded {} orders in {:.1} s; the database now holds {} products and {} orders",
        args.orders,
        started.elapsed().as_secs_f64(),
        count(&mut conn, "products").await?,
        count(&mut conn, "orders").await?
    );
    Ok(())
}

/// The rows in `table`.
async fn count(conn: &mut AsyncPgConnection, table: &str) -> Result<i64, diesel::result::Error> {
    let count: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result(conn)
        .await?;
    Ok(count.n)
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

/// The SQL that creates products `0..products` where missing.
fn products_sql(products: u32) -> String {
    PRODUCTS_SQL
        .replace(":products", &products.to_string())
        .replace(":brands", &sql_array(words::BRANDS))
        .replace(":attributes", &sql_array(words::ATTRIBUTES))
        .replace(":nouns", &sql_array(words::NOUNS))
        .replace(":vocabulary", &sql_array(words::VOCABULARY))
}

/// `ARRAY['a', 'b']`: the words as an SQL text array literal.
fn sql_array(words: &[&str]) -> String {
    let quoted: Vec<String> = words
        .iter()
        .map(|word| format!("'{}'", word.replace('\'', "''")))
        .collect();
    format!("ARRAY[{}]", quoted.join(", "))
}

/// The SQL for `size` orders numbered from `offset + 1`.
fn batch_sql(args: &Args, offset: u64, size: u32) -> String {
    SEED_SQL
        .replace(":customers", &args.customers.max(1).to_string())
        .replace(":orders", &size.to_string())
        .replace(":offset", &offset.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_become_sql_arrays_with_quotes_doubled() {
        assert_eq!(sql_array(&["Oak", "Bee's Wax"]), "ARRAY['Oak', 'Bee''s Wax']");
    }

    #[test]
    fn every_placeholder_of_the_products_sql_is_replaced() {
        let sql = products_sql(100_000);
        for placeholder in [":products", ":brands", ":attributes", ":nouns", ":vocabulary"] {
            assert!(!sql.contains(placeholder), "{placeholder} left in the SQL");
        }
        assert!(sql.contains("generate_series(0, 100000 - 1)"));
    }

    /// The schema's limits (a name of 1 to 200 characters, a description of
    /// at most 2000) hold for any pick; the load generator's misspellings
    /// need plain letters.
    #[test]
    fn the_longest_name_and_description_fit_the_schema() {
        let longest = |list: &[&str]| list.iter().map(|word| word.len()).max().unwrap();
        let name = longest(words::BRANDS) + longest(words::ATTRIBUTES) + longest(words::NOUNS) + " X996".len() + 2;
        assert!(name <= 200, "{name}");
        assert!((longest(words::VOCABULARY) + 1) * 20 <= 2000);
        let all = [words::BRANDS, words::ATTRIBUTES, words::NOUNS, words::VOCABULARY].concat();
        for word in all {
            assert!(
                word.split(' ')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphabetic()))
            );
        }
    }
}
