//! The audit trail: every change writes exactly one row (who, what, when,
//! which request) in the change's own transaction, and replays and refusals
//! write none ([`rows`]); a change that fails at its very commit leaves
//! neither the change nor its row, and the table is append-only
//! ([`integrity`]); GetOrder shows an order's state history from it, and the
//! migration backfills that of existing data ([`state_history`]).

mod integrity;
mod rows;
mod state_history;

use crate::{
    app::{Clients, TestApp},
    tokens::token,
};

/// Callers of a secured app, each with a token of one role: `merch` as
/// catalog-admin, `alice` as customer, `dock-7` as warehouse.
struct Callers {
    admin: Clients,
    alice: Clients,
    warehouse: Clients,
}

fn callers(app: &TestApp) -> Callers {
    Callers {
        admin: app.with_token(&token("merch", &["catalog-admin"])),
        alice: app.with_token(&token("alice", &["customer"])),
        warehouse: app.with_token(&token("dock-7", &["warehouse"])),
    }
}
