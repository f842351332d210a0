//! caregate's domain: roles, visibility rules and the view types shared with the browser, plus (behind the
//! `server` feature) the SeaORM entities, repositories and services that the web app, the CLI and the MCP route use.
pub mod keys;
pub mod model;
pub mod role;
pub mod scope;

#[cfg(feature = "server")]
pub mod accounts;
#[cfg(feature = "server")]
pub mod activity;
#[cfg(feature = "server")]
pub mod activity_writer;
#[cfg(feature = "server")]
pub mod care;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod demo;
#[cfg(feature = "server")]
mod entity;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod net;
#[cfg(feature = "server")]
pub mod password;
#[cfg(feature = "server")]
pub mod sessions;
#[cfg(feature = "server")]
pub mod throttle;

#[cfg(feature = "server")]
pub use error::DomainError;
pub use role::Role;
