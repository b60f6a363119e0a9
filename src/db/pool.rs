//! The connection pool.
//!
//! Traps this module avoids:
//! * a pool without a wait timeout hangs every call forever once it is
//!   exhausted or the database is gone: waits, connects and recycles are all
//!   bounded, and a timeout maps to UNAVAILABLE;
//! * the default recycling check runs `SELECT 1` on every checkout, one
//!   more round trip per call: connections are recycled with the `Fast`
//!   method, which only drops connections diesel-async knows are broken
//!   (including any whose transaction was interrupted), and the health
//!   probe notices a dead server instead;
//! * a runaway statement holds a connection and its locks: every connection
//!   gets a `statement_timeout`.

use std::time::Duration;

use diesel::ConnectionResult;
use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod},
};
use futures_util::{FutureExt, future::BoxFuture};

use crate::config::DatabaseSettings;

/// The pool every query goes through.
pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;

/// The `application_name` of the service's sessions, as seen in
/// `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "orders";

/// Builds the pool for `url`. Connections are opened lazily, on first use.
pub fn connect_pool(url: &str, settings: &DatabaseSettings) -> Result<Pool, deadpool::managed::BuildError> {
    let statement_timeout = settings.db_statement_timeout;
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| establish(url.to_owned(), statement_timeout));
    let manager = AsyncDieselConnectionManager::new_with_config(url, config);
    let timeout = Some(settings.db_acquire_timeout);
    Pool::builder(manager)
        .max_size(settings.db_pool_size)
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(deadpool::Runtime::Tokio1)
        .build()
}

/// Opens one connection and configures its session.
fn establish(url: String, statement_timeout: Duration) -> BoxFuture<'static, ConnectionResult<AsyncPgConnection>> {
    async move {
        let mut conn = AsyncPgConnection::establish(&url).await?;
        let setup = format!(
            "SET application_name = '{APPLICATION_NAME}'; SET statement_timeout = {}",
            statement_timeout.as_millis()
        );
        conn.batch_execute(&setup)
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        Ok(conn)
    }
    .boxed()
}

/// Runs a trivial query: true when the database answers.
pub async fn ping(pool: &Pool) -> bool {
    let Ok(mut conn) = pool.get().await else {
        return false;
    };
    diesel::sql_query("SELECT 1").execute(&mut conn).await.is_ok()
}
