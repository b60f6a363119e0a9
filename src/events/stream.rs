//! The JetStream stream that holds a deployment's events.
//!
//! Settings, and why: file storage (events survive a NATS restart); limits
//! retention, so every consumer reads every event independently of the
//! others, kept for [`MAX_AGE`] (a consumer that is down longer than that
//! misses events: size it to your longest outage); a duplicate window of
//! [`DUPLICATE_WINDOW`], within which a republished `Nats-Msg-Id` is
//! dropped by the server. A stream that exists is used as it is, so an
//! operator may tune it (replicas, limits) without the service undoing it.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use super::EventsError;
use crate::config::SubjectPrefix;

/// How long events are kept.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long JetStream remembers a `Nats-Msg-Id` to drop its duplicates.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Finds the stream for `prefix`, or creates it with the settings above.
pub async fn ensure(js: &jetstream::Context, prefix: &SubjectPrefix) -> Result<stream::Stream, EventsError> {
    let name = prefix.stream_name();
    let config = stream::Config {
        name: name.clone(),
        subjects: vec![prefix.subject(">")],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        max_age: MAX_AGE,
        duplicate_window: DUPLICATE_WINDOW,
        description: Some(format!(
            "Events of the orders backend under {prefix}.> (orders.v1 events.proto)"
        )),
        ..Default::default()
    };
    js.get_or_create_stream(config).await.map_err(|e| EventsError::Stream {
        stream: name,
        detail: e.to_string(),
    })
}
