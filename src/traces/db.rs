//! The spans of database work, by OpenTelemetry's database conventions:
//! kind CLIENT, `db.system.name = postgresql`, `db.namespace` (the
//! database), `db.operation.name`, and `db.query.text` where the statement's
//! text is at hand: the text with its `$1` placeholders, never the values.
//!
//! Two levels, to keep it cheap: one span for an action's unit of work on
//! its connection ([`work_span`], from [`crate::actions::Call::run`], named
//! after the RPC, since diesel generates most statements and their text is
//! not at hand), and one for CreateOrder's single statement, with its text
//! ([`statement_span`], from [`crate::db::place`]), which is also the
//! commit of the order's outbox event.

use tracing::{Span, field::Empty};

use super::SPANS;

/// The span of one action's database work on `namespace` (the database's
/// name), named `{operation} {namespace}`.
pub fn work_span(operation: &str, namespace: &str) -> Span {
    let span = db_span(operation, namespace);
    span.record("db.namespace", namespace);
    span
}

/// The span of one statement whose text is known: `operation` (`SELECT`)
/// calling the SQL function `procedure`, named `{operation} {procedure}`;
/// `text` is evaluated only when traces are on.
pub fn statement_span(operation: &str, procedure: &str, text: impl FnOnce() -> &'static str) -> Span {
    let span = db_span(operation, procedure);
    if !span.is_disabled() {
        span.record("db.stored_procedure.name", procedure);
        span.record("db.query.text", text());
    }
    span
}

/// A CLIENT span `{operation} {target}` on PostgreSQL; the rest is
/// recorded by the callers above.
fn db_span(operation: &str, target: &str) -> Span {
    tracing::info_span!(
        target: SPANS,
        "db",
        otel.name = format_args!("{operation} {target}").to_string(),
        otel.kind = "client",
        otel.status_code = Empty,
        db.system.name = "postgresql",
        db.operation.name = operation,
        db.namespace = Empty,
        db.stored_procedure.name = Empty,
        db.query.text = Empty,
    )
}
