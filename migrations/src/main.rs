//! The migration crate's own CLI (`cargo run -p migrations -- up|down|status`), for operators and schema work.
use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migrations::Migrator).await;
}
