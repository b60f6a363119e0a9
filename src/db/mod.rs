//! PostgreSQL: schema, connection pool, migrations, the local database
//! used when none is configured, and one query module per table.
//!
//! Query functions take `&mut AsyncPgConnection` and return `QueryResult`,
//! so they compose into transactions; deciding what an error means for the
//! caller happens at the service boundary ([`crate::error`]).

pub mod audit;
pub mod audit_reads;
pub mod idempotency;
pub mod launcher;
pub mod listener;
pub mod migrations;
pub mod order_payments;
pub mod orders;
pub mod outbox;
pub mod pick_list;
pub mod place;
pub mod pool;
pub mod products;
#[rustfmt::skip] // generated: see the header of schema.rs
pub mod schema;
pub mod search;
pub mod secrets;
pub mod sibling;

pub use pool::{Pool, connect_pool};
