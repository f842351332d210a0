//! `caregate`: serves the app, or runs an operator command.
use clap::Parser;

/// mimalloc instead of glibc's allocator: request handling allocates many small, short-lived buffers across
/// threads, where glibc's arenas spent about a sixth of the CPU time in the MCP benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    server::telemetry::init();
    server::cli::run(server::cli::Cli::parse()).await
}
