//! `caregate`: serves the app, or runs an operator command.
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    server::telemetry::init();
    server::cli::run(server::cli::Cli::parse()).await
}
