//! `orders-load`: a load generator for the orders gRPC service.
//!
//! `args` reads the flags, `workloads` builds and sends the requests (after
//! seeding the catalog through the API; searches use `words`, the word lists
//! orders-seed names its products with), `runner` drives closed- or
//! open-loop callers over a few HTTP/2 connections, and `report` turns the
//! merged HDR histograms into the summary. See BENCHMARKS.md for usage.

mod args;
mod report;
mod runner;
mod workloads;
// The word lists of the seeded product names, for the search queries: one
// file for both binaries, so the queries follow the names. Only the
// descriptions' vocabulary goes unused here.
#[path = "../orders-seed/words.rs"]
#[allow(dead_code)]
mod words;

use std::{error::Error, process::ExitCode, sync::Arc};

use clap::Parser;

use args::{Args, Stop, Workload};
use report::{Run, Summary};

/// Exit status when the run could not start (connection or setup failed).
const SETUP_FAILED: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(summary) => {
            let output = if args.json {
                summary.to_json() + "\n"
            } else {
                summary.to_text()
            };
            print!("{output}");
            let failed = args.fail_on_error && summary.total.errors > 0;
            if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(error) => {
            eprintln!("orders-load: {error}");
            ExitCode::from(SETUP_FAILED)
        }
    }
}

async fn run(args: &Args) -> Result<Summary, Box<dyn Error + Send + Sync>> {
    let channels = runner::connect(&args.addr, args.connections)
        .await
        .map_err(|error| format!("cannot connect to {}: {error:?}", args.addr))?;
    let mix = args.effective_mix();
    let fixtures = workloads::setup::fixtures(channels[0].clone(), args, &mix).await?;
    let stop = match args.stop() {
        Stop::After(duration) => humantime::format_duration(duration).to_string(),
        Stop::Count(count) => format!("{count} requests"),
    };
    eprintln!(
        "orders-load: {mix}; warm-up {}, then measuring {stop}",
        humantime::format_duration(args.warmup)
    );
    let measured = runner::run(args, &channels, Arc::new(fixtures), mix.clone()).await;
    Ok(Summary::new(
        describe(args, &mix),
        &measured.recorder,
        measured.measure_from,
    ))
}

/// The run's settings, as the summary echoes them.
fn describe(args: &Args, mix: &workloads::Mix) -> Run {
    Run {
        workload: match args.workload {
            Workload::One(kind) => kind.name().to_owned(),
            Workload::Mix => "mix".to_owned(),
        },
        mix: mix.to_string(),
        mode: if args.rps.is_some() { "open" } else { "closed" },
        concurrency: args.concurrency,
        connections: args.connections,
        target_rps: args.rps,
    }
}
