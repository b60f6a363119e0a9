//! Events: every recorded change publishes exactly one event, in the same
//! transaction as the change, to the test's own JetStream stream.
//!
//! `contract.rs`: what each event says and on which subject; `outbox.rs`:
//! rolled-back changes publish nothing, NATS outages and several relays
//! lose and duplicate nothing; `crashes.rs`: a relay killed with kill -9;
//! `zero_config.rs`: finding or starting NATS without `--nats-url`.

mod contract;
mod crashes;
mod outbox;
mod zero_config;
