//! The caregate server: configuration, the axum router (pages, server functions, health checks) and the
//! operator command line.
pub mod api;
pub mod cli;
pub mod config;
mod cross_site;
mod guard;
pub mod headers;
mod health;
pub mod mcp;
pub mod metrics;
pub mod oauth;
pub mod panics;
pub mod reminders;
pub mod retention;
pub mod startup;
pub mod telemetry;
