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
    web::WebPages,
};

/// The work that runs beside the calls, each part there when this process
/// has it: the relays (one per service with an outbox), the job workers,
/// the notifications service, the doorbells that wake relays (with the
/// pool each rings on), the watcher of
/// the token key files, the refresher of the JWKS URL's keys and the
/// metrics endpoint.
pub(super) struct Work {
    pub relays: Vec<crate::relay::Relay>,
    pub jobs: Vec<crate::jobs::worker::Worker>,
    pub notifications: Option<Notifications>,
    pub doorbells: Vec<(Doorbell, db::Pool)>,
    pub keys: Option<KeyWatcher>,
    pub refresher: Option<KeyRefresher>,
    pub metrics: Option<Endpoint>,
    pub web: Option<WebPages>,
}

/// That work, running.
pub(super) struct Background {
    stop: watch::Sender<()>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    doorbells: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    /// Starts each part of `work` in a task of its own; all but the
    /// doorbells run until [`Self::stop`].
    pub(super) fn start(work: Work) -> Background {
        let (stop, stopping) = watch::channel(());
        let until_stopped = move || -> BoxFuture<'static, ()> {
            let mut stopping = stopping.clone();
            async move {
                let _ = stopping.changed().await;
            }
            .boxed()
        };
        let Work {
            relays,
            jobs,
            notifications,
            doorbells,
            keys,
            refresher,
            metrics,
            web,
        } = work;
        let relays = relays.into_iter().map(|relay| relay.run(until_stopped()).boxed());
        let workers = jobs.into_iter().map(|jobs| jobs.run(until_stopped()).boxed());
        let runs = [
            notifications.map(|notifications| notifications.run(until_stopped()).boxed()),
            keys.map(|keys| keys.run(until_stopped()).boxed()),
            refresher.map(|refresher| refresher.run(until_stopped()).boxed()),
            metrics.map(|metrics| metrics.serve(until_stopped()).boxed()),
            web.map(|web| web.serve(until_stopped()).boxed()),
        ];
        let tasks = runs
            .into_iter()
            .flatten()
            .chain(relays)
            .chain(workers)
            .map(tokio::spawn)
            .collect();
        let doorbells = doorbells.into_iter();
        let doorbells = doorbells
            .map(|(doorbell, pool)| tokio::spawn(doorbell.forward(pool)))
            .collect();
        Background { stop, tasks, doorbells }
    }

    /// Stops every task and waits for each to finish its current step.
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        for task in self.tasks {
            let _ = task.await;
        }
        for doorbell in self.doorbells {
            doorbell.abort();
        }
    }
}
