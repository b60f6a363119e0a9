//! `orders`: runs the gRPC server (`orders` or `orders serve`), applies
//! migrations (`orders migrate`), checks the dependencies (`orders
//! doctor`), prints a development token (`orders token`) or a shell's
//! completion script (`orders completions`). All the work is in the library.

use std::process::ExitCode;

use clap::Parser;
use orders::{
    config::{Cli, Command},
    startup::{self, Application},
    telemetry,
    traces::{self, Traces},
};

/// mimalloc rather than glibc's malloc: reading a page of orders allocates a
/// string per column of every row, and glibc spent a quarter of the
/// server's time in malloc/free on GetOrderHistory (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Only a server exports traces; a malformed endpoint stops it at once.
    let mut traces = match cli.command {
        None | Some(Command::Serve) => match traces::init(&cli.settings.tracing) {
            Ok(traces) => traces,
            Err(error) => {
                eprintln!("orders: {error}");
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    let layer = traces.as_mut().and_then(Traces::take_layer);
    // Kept to the end of `main`: dropping it writes the log lines still queued.
    let _log = match cli.command {
        Some(Command::Doctor { .. }) => telemetry::init_with_default(cli.settings.log_format, "warn", layer),
        _ => telemetry::init(cli.settings.log_format, layer),
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Token(args) => return print_token(&cli.settings, &args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "orders", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Jobs(args) => startup::jobs_admin::run(&cli.settings, &args)
            .await
            .map(|out| print!("{out}")),
        Command::Man { out_dir } => return man(out_dir.as_deref()),
        Command::Doctor { json } => return doctor(&cli.settings, json).await,
        Command::Serve => serve(cli.settings, traces).await,
        Command::Migrate => startup::migrate(&cli.settings).await.map(|applied| {
            tracing::info!(?applied, "migrations applied; the schema is up to date");
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("orders: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: orders::config::Settings, traces: Option<Traces>) -> Result<(), startup::StartupError> {
    if let Some(endpoint) = settings.tracing.endpoint() {
        tracing::info!(endpoint, "exporting traces over OTLP");
    }
    let app = Application::build(settings).await?;
    // Listen before saying so: a supervisor (or a test) that reads the line
    // below and sends SIGTERM at once must get a graceful stop, not the
    // default action of a signal nobody handles yet.
    let shutdown = shutdown_signal();
    let version = orders::VERSION;
    tracing::info!(addr = %app.local_addr(), version, "orders is serving gRPC");
    let served = app.run_until(shutdown).await;
    // After the drain and the background work: their last spans are queued.
    if let Some(traces) = traces {
        traces.shutdown().await;
    }
    served
}

/// `orders doctor`: one line per check on stdout (coloured on a terminal,
/// unless NO_COLOR is set), or one JSON object; fails if any check failed.
async fn doctor(settings: &orders::config::Settings, json: bool) -> ExitCode {
    use std::io::IsTerminal;
    let report = orders::doctor::examine(settings).await;
    match json {
        true => println!("{}", report.json()),
        false => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print!("{}", report.text(color));
        }
    }
    match report.healthy() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

// The man pages build.rs rendered: `MAN_PAGES`, (file name, roff) pairs.
include!(concat!(env!("OUT_DIR"), "/man_pages.rs"));

/// `orders man`: `orders.1` on stdout, or every page into `out_dir`.
fn man(out_dir: Option<&std::path::Path>) -> ExitCode {
    let Some(dir) = out_dir else {
        print!("{}", MAN_PAGES[0].1);
        return ExitCode::SUCCESS;
    };
    for (name, page) in MAN_PAGES {
        if let Err(error) = std::fs::write(dir.join(name), page) {
            eprintln!("orders man: cannot write {}: {error}", dir.join(name).display());
            return ExitCode::FAILURE;
        }
    }
    println!("wrote {} man pages to {}", MAN_PAGES.len(), dir.display());
    ExitCode::SUCCESS
}

/// `orders token`: prints a development token on stdout.
fn print_token(settings: &orders::config::Settings, args: &orders::config::TokenArgs) -> ExitCode {
    match orders::auth::mint::mint(&settings.security.auth, args) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("orders token: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM. The handlers are
/// installed when this is called, not when the future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).expect("can listen for SIGINT");
    let mut terminate = signal(SignalKind::terminate()).expect("can listen for SIGTERM");
    async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("received SIGINT"),
            _ = terminate.recv() => tracing::info!("received SIGTERM"),
        }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
