//! `orders`: runs the gRPC server (`orders` or `orders serve`), applies
//! migrations (`orders migrate`), prints a development token (`orders
//! token`) or a shell's completion script (`orders completions`). All the
//! work is in the library.

use std::process::ExitCode;

use clap::Parser;
use orders::{
    config::{Cli, Command},
    startup::{self, Application},
    telemetry,
};

/// mimalloc rather than glibc's malloc: reading a page of orders allocates a
/// string per column of every row, and glibc spent a quarter of the
/// server's time in malloc/free on GetOrderHistory (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);
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
        Command::Serve => serve(cli.settings).await,
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

async fn serve(settings: orders::config::Settings) -> Result<(), startup::StartupError> {
    let app = Application::build(settings).await?;
    let version = orders::config::VERSION;
    tracing::info!(addr = %app.local_addr(), version, "orders is serving gRPC");
    app.run_until(shutdown_signal()).await
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

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("can listen for SIGTERM");
        tokio::select! {
            _ = interrupt => tracing::info!("received SIGINT"),
            _ = terminate.recv() => tracing::info!("received SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
