//! The scrape hooks of the services: gauges read from their pools and
//! databases at each scrape of `/metrics` (each within the scrape's time
//! limit, [`crate::monitoring::Scrape`]).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use futures_util::FutureExt;
use metrics::gauge;

use crate::{
    db::{self, Pool},
    jobs::queue,
    monitoring::{Hook, catalogue::*},
};

/// The pool of `service`: its size, what is in use and waiting, and
/// whether its database answers.
pub fn pool(service: &'static str, pool: Pool) -> Hook {
    Arc::new(move || {
        let pool = pool.clone();
        async move {
            let status = pool.status();
            gauge!(POOL_MAX, "service" => service).set(status.max_size as f64);
            gauge!(POOL_OPEN, "service" => service).set(status.size as f64);
            let idle = status.available;
            gauge!(POOL_IN_USE, "service" => service).set(status.size.saturating_sub(idle) as f64);
            gauge!(POOL_WAITERS, "service" => service).set(status.waiting as f64);
            let up = db::pool::ping(&pool).await;
            gauge!(DATABASE_UP, "service" => service).set(if up { 1.0 } else { 0.0 });
        }
        .boxed()
    })
}

/// The jobs of `service`'s queue by kind and state. A kind and state seen
/// before and gone now is set to 0, not left at its last count.
pub fn jobs(service: &'static str, pool: Pool) -> Hook {
    let seen: Arc<Mutex<HashSet<(String, queue::JobState)>>> = Arc::default();
    Arc::new(move || {
        let (pool, seen) = (pool.clone(), seen.clone());
        async move {
            let Ok(mut conn) = pool.get().await else { return };
            let Ok(counts) = queue::counts(&mut conn).await else {
                return;
            };
            let mut seen = seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let now: HashSet<_> = counts.iter().map(|(kind, state, _)| (kind.clone(), *state)).collect();
            for (kind, state) in seen.difference(&now) {
                gauge!(JOBS, "service" => service, "kind" => kind.clone(), "state" => state.as_db()).set(0.0);
            }
            for (kind, state, count) in counts {
                gauge!(JOBS, "service" => service, "kind" => kind, "state" => state.as_db()).set(count as f64);
            }
            *seen = now;
        }
        .boxed()
    })
}

/// The orders service's outbox: how many events wait, and for how long.
pub fn outbox(pool: Pool) -> Hook {
    Arc::new(move || {
        let pool = pool.clone();
        async move {
            let Ok(mut conn) = pool.get().await else { return };
            let Ok(backlog) = db::outbox::backlog(&mut conn, &db::outbox::ORDERS).await else {
                return;
            };
            gauge!(OUTBOX_PENDING).set(backlog.events as f64);
            gauge!(OUTBOX_OLDEST_AGE).set(backlog.oldest_age_seconds);
        }
        .boxed()
    })
}
