//! The caregate server: configuration, the axum router (pages, server functions, health checks) and the
//! operator command line.
pub mod api;
pub mod cli;
pub mod config;
mod cross_site;
mod guard;
mod headers;
mod health;
pub mod mcp;
pub mod metrics;
pub mod oauth;
mod panics;
pub mod reminders;
pub mod retention;
pub mod startup;
pub mod telemetry;
