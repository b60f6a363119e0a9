//! SQL straight on a test's database, around the API: row counts and other
//! single numbers, raw statements, and row locks that hold calls in flight.
//!
//! Here because what the API answers is only half of a check: these show
//! what was stored (or that nothing was), and let a test stall a call at a
//! known point.

use std::time::Duration;

use diesel::{QueryableByName, sql_types::BigInt};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::app::TestApp;

/// The row of a `SELECT count(*) AS n …`.
#[derive(QueryableByName)]
pub struct Count {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// `SELECT count(*) FROM <table>`, straight on the test's database (through
/// the app's own pool).
pub async fn count_rows(app: &TestApp, table: &str) -> i64 {
    query_n(app, &format!("SELECT count(*) AS n FROM {table}")).await
}

/// The bigint column `n` of the one row `sql` returns, through the app's pool.
pub async fn query_n(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.pool.get().await.expect("a pooled connection");
    query_n_on(&mut conn, sql).await
}

/// The bigint column `n` of the one row `sql` returns, on `conn`.
pub async fn query_n_on(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    let row: Count = diesel::sql_query(sql)
        .get_result(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.n
}

/// Runs raw SQL on the test's database.
pub async fn execute_sql(app: &TestApp, sql: &str) {
    let mut conn = app.connect().await;
    conn.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Holds a row lock on a product in an open transaction, so that any call
/// that changes its stock blocks until `ROLLBACK` on the returned connection.
pub async fn lock_product(db_url: &str, product_id: &str) -> AsyncPgConnection {
    let mut conn = AsyncPgConnection::establish(db_url).await.expect("connects");
    let lock = format!("BEGIN; SELECT 1 FROM products WHERE id = '{product_id}' FOR UPDATE");
    conn.batch_execute(&lock).await.unwrap();
    conn
}

/// Waits until `n` sessions of the database at `db_url` wait on a lock.
pub async fn wait_for_lock_waiters(db_url: &str, n: i64) {
    let mut observer = AsyncPgConnection::establish(db_url).await.expect("connects");
    let waiting = "SELECT count(*) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
    while query_n_on(&mut observer, waiting).await < n {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
