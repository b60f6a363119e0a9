//! The Rust enums stored as text and the schema's checks allow the same values.
//!
//! A state is a `pg_enum!` variant in the code and a word in a `CHECK` constraint (or, for
//! placement outcomes, in the `place_order` function). If the two disagree, a row the code
//! writes is refused, or a row the database holds cannot be read; these tests catch that when
//! a state is added on one side only.

use std::collections::BTreeSet;

use diesel::{QueryableByName, sql_types::Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use orders::db::{audit::Action, place::Outcome};
use orders::domain::state::OrderState;

use crate::app::spawn_app;

#[derive(QueryableByName)]
struct Definition {
    #[diesel(sql_type = Text)]
    text: String,
}

#[tokio::test]
async fn order_states_are_the_ones_the_orders_table_allows() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    let allowed = constraint_values(&mut conn, "orders_state_known").await;
    assert_eq!(allowed, spellings(OrderState::ALL.iter().map(|s| s.as_db())));
}

#[tokio::test]
async fn audit_actions_and_states_are_the_ones_the_audit_trail_allows() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    let actions = constraint_values(&mut conn, "audit_events_action_known").await;
    assert_eq!(actions, spellings(Action::ALL.iter().map(|a| a.as_db())));
    let states = constraint_values(&mut conn, "audit_events_order_states").await;
    assert_eq!(states, spellings(OrderState::ALL.iter().map(|s| s.as_db())));
}

#[tokio::test]
async fn placement_outcomes_are_the_ones_place_order_answers() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    let body = definition(&mut conn, "SELECT pg_get_functiondef('place_order'::regproc) AS text").await;
    // Every outcome the function sets: `outcome := 'x'` or a `THEN 'x'` of its CASE.
    let answered: BTreeSet<String> = body
        .split("outcome := ")
        .skip(1)
        .chain(body.split("THEN ").skip(1))
        .filter_map(|rest| {
            rest.strip_prefix('\'')?
                .split_once('\'')
                .map(|(word, _)| word.to_owned())
        })
        .collect();
    assert_eq!(answered, spellings(Outcome::ALL.iter().map(|o| o.as_db())));
}

fn spellings<'a>(values: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    values.map(str::to_owned).collect()
}

/// The string literals of a check constraint, as PostgreSQL shows its definition, except the
/// resource types (`orders.v1.Order`) that the audit trail's checks also name.
async fn constraint_values(conn: &mut AsyncPgConnection, name: &str) -> BTreeSet<String> {
    let query = format!("SELECT pg_get_constraintdef(oid) AS text FROM pg_constraint WHERE conname = '{name}'");
    let text = definition(conn, &query).await;
    // Literals alternate with the text between them: every odd piece is one.
    let literals = text.split('\'').skip(1).step_by(2);
    literals.filter(|v| !v.contains('.')).map(str::to_owned).collect()
}

async fn definition(conn: &mut AsyncPgConnection, query: &str) -> String {
    let row: Definition = diesel::sql_query(query).get_result(conn).await.unwrap();
    row.text
}
