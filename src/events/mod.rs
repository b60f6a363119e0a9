//! The event backbone, shared by every service: connecting to NATS
//! JetStream (or finding or starting a local NATS when none is configured)
//! and the stream that holds a deployment's events.
//!
//! What the events are is the contract in `proto/orders/v1/events.proto`;
//! who writes them is each service's outbox (for orders, the audit trail),
//! and [`crate::relay`] publishes them.

pub mod launcher;
pub mod stream;

use std::{path::Path, time::Duration};

use async_nats::jetstream;

use crate::config::EventSettings;

/// The header that names an event's message type, e.g. `orders.v1.OrderPlaced`.
pub const EVENT_TYPE_HEADER: &str = "Orders-Event-Type";

/// How long a JetStream request (a publish's ack, a stream lookup) may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the event backbone could not be reached, in one line each.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error(
        "no NATS server answers on {shared} and `{program}` is not installed: set --nats-url \
         (ORDERS_NATS_URL), or install NATS (e.g. `apt-get install nats-server`)"
    )]
    NoNatsServer { shared: String, program: String },
    #[error("private NATS server in {store} did not start: {detail}")]
    Start { store: String, detail: String },
    #[error("cannot connect to NATS at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("cannot set up the JetStream stream {stream}: {detail}")]
    Stream { stream: String, detail: String },
}

/// Connects to the configured NATS (or the local one: see [`launcher`]).
/// The client reconnects on its own for as long as the process runs, and the
/// first connection is retried too: a NATS that is down at start delays the
/// events, not the service.
pub async fn connect(settings: &EventSettings, data_dir: &Path) -> Result<jetstream::Context, EventsError> {
    let url = match &settings.nats_url {
        Some(url) => url.clone(),
        None => launcher::local_server(&launcher::store_dir(data_dir)).await?.into(),
    };
    let options = async_nats::ConnectOptions::new()
        .name("orders")
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        .request_timeout(Some(REQUEST_TIMEOUT));
    let client = options.connect(url.expose()).await.map_err(|e| EventsError::Connect {
        url: url.redacted(),
        detail: e.to_string(),
    })?;
    Ok(jetstream::new(client))
}
