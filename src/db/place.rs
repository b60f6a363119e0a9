//! `place_order(...)`: CreateOrder's single statement (the function is in
//! the migrations, with what it checks and in which order), wrapped in a
//! data-modifying CTE that writes the audit row when the order was placed.
//!
//! One round trip, no `BEGIN`/`COMMIT`: the statement is its own
//! transaction, so the order and its audit row commit or vanish together. The query is a fixed text with array parameters, whatever
//! the number of lines, and has a static query id, so diesel-async prepares
//! it once per connection and reuses it (diesel never caches `sql_query`).
//!
//! With traces on, the statement has a span of its own with its text
//! ([`crate::traces::db::statement_span`]), and the audit row stores that
//! span's context (`trace_parent`, `trace_state`): the relay's publish of
//! the event continues the trace from this commit. Without traces the two
//! are NULL, bound as such: no text to build, nothing to send.
//!
//! An order paid by card also gets, in the same statement, its
//! `order_payments` row and the jobs of its payment saga
//! ([`crate::actions::saga`]); for one paid on delivery both lists are
//! empty, and the statement's text is the same.

use diesel::{
    pg::Pg,
    prelude::*,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
    sql_types::{Array, Bytea, Int4, Int8, Jsonb, Nullable, Text, Timestamptz, Untyped, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{
    audit::{Action, Actor, Outgoing},
    idempotency::IdempotencyKey,
    orders::{OrderRow, OrderWithLines},
};
use crate::jobs::queue::{DEFAULT_ATTEMPTS, NewJob};
use crate::{
    domain::state::OrderState,
    traces::{self, propagation::StoredContext},
};

/// The call: the order and lines as they will be stored, the idempotency
/// key (if any), the response to store under it, who places it, and the
/// event it publishes.
pub struct PlaceOrder<'a> {
    order: &'a OrderRow,
    actor: &'a Actor,
    outgoing: &'a Outgoing,
    product_ids: Vec<Uuid>,
    quantities: Vec<i32>,
    skus: Vec<&'a str>,
    names: Vec<&'a str>,
    unit_units: Vec<i64>,
    unit_nanos: Vec<i32>,
    line_units: Vec<i64>,
    line_nanos: Vec<i32>,
    scope: Option<&'a str>,
    request_id: Option<Uuid>,
    request_hash: Option<&'a [u8]>,
    response: &'a [u8],
    /// The statement span's context (`traceparent`, `tracestate`), stored
    /// with the event.
    trace_parent: Option<String>,
    trace_state: Option<String>,
    /// The card payment's method: none, or one for an order paid by card.
    payment_methods: Vec<&'a str>,
    /// The payment saga's jobs, as columns (none without a card payment).
    job_kinds: Vec<String>,
    job_payloads: Vec<serde_json::Value>,
    job_run_ats: Vec<chrono::DateTime<chrono::Utc>>,
    job_max_attempts: Vec<i32>,
    job_unique_keys: Vec<Option<String>>,
}

crate::pg_enum! {
    /// What `place_order` did; the migration says when it answers each.
    pub enum Outcome {
        /// Stock taken, order, lines and key stored: committed.
        Placed = "placed",
        /// The `request_id` was seen before: `prior_hash`/`prior_response`
        /// hold what it stored. Nothing changed.
        Replay = "replay",
        /// A product does not exist. Nothing changed.
        Missing = "missing",
        /// A price, currency or name differs from what the server priced
        /// with, or a product is archived: its catalog cache is out of date.
        /// Nothing changed.
        Stale = "stale",
        /// Some line lacks stock. Nothing changed.
        Short = "short",
    }
}

/// What the statement did, and what it found under its locks.
#[derive(Debug, QueryableByName)]
pub struct Placement {
    #[diesel(sql_type = Text)]
    pub outcome: Outcome,
    #[diesel(sql_type = Nullable<Bytea>)]
    pub prior_hash: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Bytea>)]
    pub prior_response: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Array<SqlUuid>>)]
    pub found_ids: Option<Vec<Uuid>>,
    #[diesel(sql_type = Nullable<Array<Int8>>)]
    pub found_stock: Option<Vec<i64>>,
}

impl<'a> PlaceOrder<'a> {
    pub fn new(
        rows: &'a OrderWithLines,
        key: Option<&'a IdempotencyKey>,
        response: &'a [u8],
        actor: &'a Actor,
        outgoing: &'a Outgoing,
        jobs: Vec<NewJob>,
    ) -> Self {
        let (order, lines) = (&rows.order, &rows.lines[..]);
        PlaceOrder {
            order,
            actor,
            outgoing,
            product_ids: lines.iter().map(|l| l.product_id).collect(),
            quantities: lines.iter().map(|l| l.quantity).collect(),
            skus: lines.iter().map(|l| l.sku.as_str()).collect(),
            names: lines.iter().map(|l| l.name.as_str()).collect(),
            unit_units: lines.iter().map(|l| l.unit_price_units).collect(),
            unit_nanos: lines.iter().map(|l| l.unit_price_nanos).collect(),
            line_units: lines.iter().map(|l| l.line_total_units).collect(),
            line_nanos: lines.iter().map(|l| l.line_total_nanos).collect(),
            scope: key.map(|k| k.scope.as_str()),
            request_id: key.map(|k| k.request_id),
            request_hash: key.map(|k| &k.request_hash[..]),
            response,
            trace_parent: None,
            trace_state: None,
            payment_methods: rows.payment.iter().map(|p| p.payment_method.as_str()).collect(),
            job_kinds: jobs.iter().map(|job| job.kind.clone()).collect(),
            job_run_ats: jobs.iter().map(|job| job.run_at.unwrap_or(order.create_time)).collect(),
            job_max_attempts: jobs
                .iter()
                .map(|job| job.max_attempts.unwrap_or(DEFAULT_ATTEMPTS))
                .collect(),
            job_unique_keys: jobs.iter().map(|job| job.unique_key.clone()).collect(),
            job_payloads: jobs.into_iter().map(|job| job.payload).collect(),
        }
    }

    /// Runs the statement and returns its outcome once it has committed.
    ///
    /// Trap: the statement commits only when PostgreSQL reaches the `Sync`
    /// after it, and its row is sent before that. If the backend dies in
    /// between (a crash, `pg_terminate_backend`), the row still arrives,
    /// followed by the error, and the work is rolled back. `get_result`
    /// returns at the first row, which would acknowledge an order that was
    /// never stored; `load` reads to `ReadyForQuery`, the commit's answer.
    pub async fn run(mut self, conn: &mut AsyncPgConnection) -> QueryResult<Placement> {
        let span = traces::db::statement_span("SELECT", "place_order", || self.sql_text());
        if let Some(stored) = span.in_scope(traces::propagation::stored) {
            // The saga's jobs continue the trace from this commit too.
            for payload in &mut self.job_payloads {
                stored.put_in(payload);
            }
            let StoredContext { parent, state } = stored;
            (self.trace_parent, self.trace_state) = (Some(parent), state);
        }
        let result = async {
            let mut rows: Vec<Placement> = self.load(conn).await?;
            rows.pop().ok_or(diesel::result::Error::NotFound)
        };
        let result = tracing::Instrument::instrument(result, span.clone()).await;
        traces::record_result(&span, &result);
        result
    }

    /// The statement's text, with `$n` for every value: the same for every
    /// order (arrays hold the lines), so it is built once per process.
    fn sql_text(&self) -> &'static str {
        static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        TEXT.get_or_init(|| {
            let mut builder = diesel::pg::PgQueryBuilder::default();
            let built = QueryFragment::<Pg>::to_sql(self, &mut builder, &Pg);
            built.map_or_else(
                |e| e.to_string(),
                |()| diesel::query_builder::QueryBuilder::finish(builder),
            )
        })
    }
}

impl QueryId for PlaceOrder<'_> {
    type QueryId = PlaceOrder<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for PlaceOrder<'_> {
    type SqlType = Untyped;
}

impl QueryFragment<Pg> for PlaceOrder<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let o = self.order;
        // `placed` is referenced twice, so PostgreSQL materialises it: the
        // function runs exactly once.
        out.push_sql("WITH placed AS (SELECT * FROM place_order(");
        out.push_bind_param::<SqlUuid, _>(&o.id)?;
        for text in [&o.customer_id, &o.currency_code] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Int8, _>(&o.total_units)?;
        out.push_sql(", ");
        out.push_bind_param::<Int4, _>(&o.total_nanos)?;
        let address = [
            &o.ship_recipient,
            &o.ship_line1,
            &o.ship_line2,
            &o.ship_city,
            &o.ship_region,
            &o.ship_postal_code,
            &o.ship_country_code,
        ];
        for text in address {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Timestamptz, _>(&o.create_time)?;
        self.walk_lines(&mut out)?;
        self.walk_key(&mut out)?;
        out.push_sql(")), audit AS (");
        self.walk_audit(&mut out)?;
        out.push_sql("), payment AS (");
        self.walk_payment(&mut out)?;
        out.push_sql(") SELECT outcome, prior_hash, prior_response, found_ids, found_stock FROM placed");
        Ok(())
    }
}

impl PlaceOrder<'_> {
    fn walk_lines<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.product_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int4>, _>(&self.quantities)?;
        for texts in [&self.skus, &self.names] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(texts)?;
        }
        for (units, nanos) in [
            (&self.unit_units, &self.unit_nanos),
            (&self.line_units, &self.line_nanos),
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Int8>, _>(units)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Int4>, _>(nanos)?;
        }
        Ok(())
    }

    /// The audit row of a placed order, at its creation time, with its event.
    fn walk_audit<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO audit_events (event_time, actor_subject, actor_role, request_id, \
             action, resource_type, resource_id, to_state, event_id, event_payload, \
             trace_parent, trace_state) SELECT ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.order.create_time)?;
        for text in [&self.actor.subject, self.actor.role, &self.actor.request_id] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&Action::OrderCreated)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(Action::OrderCreated.resource_type())?;
        out.push_sql(", ");
        out.push_bind_param::<SqlUuid, _>(&self.order.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&OrderState::Placed)?;
        out.push_sql(", ");
        out.push_bind_param::<SqlUuid, _>(&self.outgoing.event_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Bytea, _>(&self.outgoing.payload)?;
        for trace in [&self.trace_parent, &self.trace_state] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(trace)?;
        }
        out.push_sql(" FROM placed WHERE outcome = 'placed'");
        Ok(())
    }

    /// The card payment's row and the saga's jobs, of a placed order.
    fn walk_payment<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("INSERT INTO order_payments (order_id, update_time, payment_method) SELECT ");
        out.push_bind_param::<SqlUuid, _>(&self.order.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamptz, _>(&self.order.create_time)?;
        out.push_sql(", method FROM placed, unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.payment_methods)?;
        out.push_sql(") AS method WHERE outcome = 'placed'), saga AS (");
        out.push_sql(
            "INSERT INTO jobs (kind, payload, run_at, max_attempts, unique_key) SELECT job.* FROM placed, unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.job_kinds)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Jsonb>, _>(&self.job_payloads)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamptz>, _>(&self.job_run_ats)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int4>, _>(&self.job_max_attempts)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.job_unique_keys)?;
        out.push_sql(") AS job WHERE outcome = 'placed'");
        Ok(())
    }

    fn walk_key<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.scope)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<SqlUuid>, _>(&self.request_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Bytea>, _>(&self.request_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Bytea, _>(&self.response)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.order.customer_email)?;
        Ok(())
    }
}
