//! The work a server process runs beside its calls, started before it
//! serves and stopped after the drain, all with one stop signal: a task
//! of its own each, so that none can hold up another.

use futures_util::{FutureExt, future::BoxFuture};
use tokio::sync::watch;

use crate::{
    auth::{reload::KeyWatcher, remote::KeyRefresher},
    db::{self, outbox::Doorbell},
    monitoring::endpoint::Endpoint,
    notifications::Notifications,
};

/// The work that runs beside the calls: the relay, the job workers, the
/// notifications service, the doorbell that wakes relays, the watcher of
/// the token key files, the refresher of the JWKS URL's keys and the
/// metrics endpoint.
pub(super) struct Background {
    stop: watch::Sender<()>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    doorbell: Option<tokio::task::JoinHandle<()>>,
}

impl Background {
    pub(super) fn start(
        relay: Option<crate::relay::Relay>,
        jobs: Option<crate::jobs::worker::Worker>,
        notifications: Option<Notifications>,
        doorbell: Option<(Doorbell, db::Pool)>,
        (keys, refresher): (Option<KeyWatcher>, Option<KeyRefresher>),
        metrics: Option<Endpoint>,
    ) -> Background {
        let (stop, stopping) = watch::channel(());
        let until_stopped = move || -> BoxFuture<'static, ()> {
            let mut stopping = stopping.clone();
            async move {
                let _ = stopping.changed().await;
            }
            .boxed()
        };
        let mut tasks = Vec::new();
        if let Some(relay) = relay {
            tasks.push(tokio::spawn(relay.run(until_stopped())));
        }
        if let Some(jobs) = jobs {
            tasks.push(tokio::spawn(jobs.run(until_stopped())));
        }
        if let Some(notifications) = notifications {
            tasks.push(tokio::spawn(notifications.run(until_stopped())));
        }
        if let Some(keys) = keys {
            tasks.push(tokio::spawn(keys.run(until_stopped())));
        }
        if let Some(refresher) = refresher {
            tasks.push(tokio::spawn(refresher.run(until_stopped())));
        }
        if let Some(metrics) = metrics {
            tasks.push(tokio::spawn(metrics.serve(until_stopped())));
        }
        let doorbell = doorbell.map(|(doorbell, pool)| tokio::spawn(doorbell.forward(pool)));
        Background { stop, tasks, doorbell }
    }

    /// Stops every task and waits for each to finish its current step.
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        for task in self.tasks {
            let _ = task.await;
        }
        if let Some(doorbell) = self.doorbell {
            doorbell.abort();
        }
    }
}
