//! Logging: one global `tracing` subscriber, text or JSON, on stderr.
//!
//! The lines are formatted where they happen but written by a thread of
//! their own (`tracing-appender`'s non-blocking writer), so that a call
//! never waits for a write to stderr, whatever stderr is (a terminal, a
//! pipe to a collector, a file). The writer is not lossy: if the thread
//! falls behind by its whole buffer (128k lines), callers wait rather than
//! lose a line, since the log must keep every call that changed data or
//! failed. Lines still in the buffer are written when the [`LogGuard`] is
//! dropped at the end of `main`; a process killed with SIGKILL loses them
//! (the audit trail, in the database, keeps every change regardless).
//!
//! The same subscriber carries the OpenTelemetry layer when traces are on
//! ([`crate::traces`]); each layer has its own filter, so RUST_LOG sets the
//! log's level only, and the spans of [`crate::traces::SPANS`] never show
//! in the log (a call's log line names its trace by `trace_id` instead).

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{EnvFilter, Layer, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::{config::LogFormat, traces};

/// Keeps the log's writer thread; dropping it writes what is still queued.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
}

/// Installs the global subscriber. The level comes from RUST_LOG (default
/// `info`). Safe to call more than once (later calls do nothing), which the
/// tests rely on. `traces` is the OpenTelemetry layer, when traces are on.
pub fn init(format: LogFormat, traces: Option<traces::TracesLayer>) -> LogGuard {
    init_with_default(format, "info", traces)
}

/// [`init`] with another level where RUST_LOG is not set: a command whose
/// output is its report (`orders doctor`) logs only warnings by default.
pub fn init_with_default(format: LogFormat, level: &str, traces: Option<traces::TracesLayer>) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // A static directive, so each span's call site is decided once, not per span.
    let hidden = format!("{}=off", traces::SPANS).parse();
    let filter = hidden.map_or_else(|_| EnvFilter::new(level), |spans| filter.add_directive(spans));
    // Colours only for a person at a terminal, never into a file or a collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("orders-log")
        .finish(std::io::stderr());
    let installed = match traces {
        // Without traces, the one global filter of before: nothing per event.
        None => {
            let builder = fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
            match format {
                LogFormat::Text => builder.try_init().is_ok(),
                LogFormat::Json => builder.json().flatten_event(true).try_init().is_ok(),
            }
        }
        Some(traces) => {
            let log = fmt::layer().with_writer(writer).with_ansi(ansi);
            let log = match format {
                LogFormat::Text => log.with_filter(filter).boxed(),
                LogFormat::Json => log.json().flatten_event(true).with_filter(filter).boxed(),
            };
            tracing_subscriber::registry().with(traces).with(log).try_init().is_ok()
        }
    };
    LogGuard {
        _writer: installed.then_some(guard),
    }
}
