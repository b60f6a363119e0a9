//! Logging: one global `tracing` subscriber, text or JSON.

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::LogFormat;

/// Installs the global subscriber. The level comes from RUST_LOG (default
/// `info`). Safe to call more than once (later calls do nothing), which the
/// tests rely on.
pub fn init(format: LogFormat) {
    init_with_default(format, "info");
}

/// [`init`] with another level where RUST_LOG is not set: a command whose
/// output is its report (`orders doctor`) logs only warnings by default.
pub fn init_with_default(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // Colours only for a person at a terminal, never into a file or a collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
