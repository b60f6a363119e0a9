//! Runs the load: opens the HTTP/2 connections, starts the callers, and
//! merges what they recorded.
//!
//! Closed and open loop share one caller loop; they differ only in the
//! tickets the [`schedule::Plan`] hands out (see there).

pub mod schedule;

use std::{sync::Arc, time::Instant};

use tokio::task::JoinSet;
use tonic::transport::{Channel, Endpoint};

use crate::{
    args::Args,
    report::{
        Recorder,
        live::{Feed, Live},
    },
    workloads::{Caller, Fixtures, Mix},
};
use schedule::Plan;

/// Opens `count` HTTP/2 connections to `addr`: each tonic [`Channel`] made
/// by `connect` is one connection, and clones of it share that connection.
pub async fn connect(addr: &str, count: u32) -> Result<Vec<Channel>, tonic::transport::Error> {
    let endpoint = Endpoint::from_shared(addr.to_owned())?.tcp_nodelay(true);
    let mut channels = Vec::with_capacity(count as usize);
    for _ in 0..count {
        channels.push(endpoint.connect().await?);
    }
    Ok(channels)
}

/// What a run measured, and when measuring started.
pub struct Measured {
    pub recorder: Recorder,
    pub measure_from: Instant,
}

/// Runs `--concurrency` callers over `channels` (round-robin) until the plan
/// ends or Ctrl-C, and returns their merged records.
pub async fn run(args: &Args, channels: &[Channel], fixtures: Arc<Fixtures>, mix: Mix) -> Measured {
    let plan = Arc::new(Plan::new(Instant::now(), args.warmup, args.stop(), args.rps));
    let interrupt = tokio::spawn(stop_on_ctrl_c(plan.clone()));
    let live = Live::start(args.json, plan.measure_from());
    let mix = Arc::new(mix);
    let mut callers = JoinSet::new();
    for (_, channel) in (0..args.concurrency).zip(channels.iter().cycle()) {
        let caller = Caller::new(channel.clone(), fixtures.clone());
        let feed = live.clone().map(Feed::new);
        callers.spawn(call_until_done(caller, plan.clone(), mix.clone(), feed));
    }
    let mut recorder = Recorder::default();
    while let Some(finished) = callers.join_next().await {
        recorder.merge(&finished.expect("callers do not panic"));
    }
    interrupt.abort();
    if let Some(live) = live {
        live.finish();
    }
    Measured {
        recorder,
        measure_from: plan.measure_from(),
    }
}

/// One caller: takes a ticket, waits for its start time (open loop), sends
/// one request and records it (and feeds the live line, if there is one),
/// until the plan has no more tickets.
async fn call_until_done(mut caller: Caller, plan: Arc<Plan>, mix: Arc<Mix>, mut feed: Option<Feed>) -> Recorder {
    let mut recorder = Recorder::default();
    while let Some(ticket) = plan.next(Instant::now()) {
        if ticket.intended > Instant::now() {
            tokio::time::sleep_until(ticket.intended.into()).await;
        }
        let (kind, code) = caller.call(&mix).await;
        if ticket.measured {
            let end = Instant::now();
            let latency = end - ticket.intended;
            recorder.record(kind, latency, code, end);
            if let Some(feed) = &mut feed {
                feed.record(latency, code);
            }
        }
    }
    if let Some(feed) = &mut feed {
        feed.fold();
    }
    recorder
}

/// Ctrl-C ends the run early; the summary still covers what was measured.
async fn stop_on_ctrl_c(plan: Arc<Plan>) {
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("orders-load: interrupted, finishing the calls in flight");
        plan.stop();
    }
}
