//! caregate's domain: roles, visibility rules and the view types shared with the browser, plus (behind the
//! `server` feature) the services that the web app, the command line and the MCP route use.
//!
//! One shape for persistence: each aggregate (`accounts` with `people`, `sessions`, `care`, `activity`, `keys`) is a module
//! whose rules and services sit in its `mod.rs` (or service files) and whose SeaORM queries sit in its `store`
//! submodule. Entities (`entity`) are private to the crate, and no row type leaves a `store`: stores take and
//! return domain types (ids as [`model::UserId`]/[`model::CompanyId`], roles, actions and statuses as enums).
//! Services pass only the database handle along ([`db::ConnectionTrait`] and friends).
pub mod keys;
pub mod model;
pub mod role;
pub mod scope;
pub mod text;

#[cfg(feature = "server")]
pub mod accounts;
#[cfg(feature = "server")]
pub mod activity;
#[cfg(feature = "server")]
pub mod activity_writer;
#[cfg(feature = "server")]
pub mod actor;
#[cfg(feature = "server")]
pub mod alerts;
#[cfg(feature = "server")]
mod bearer;
#[cfg(feature = "server")]
pub mod care;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod demo;
#[cfg(feature = "server")]
pub mod disclosures;
#[cfg(feature = "server")]
mod entity;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
mod fast_map;
#[cfg(feature = "server")]
pub mod hex;
#[cfg(feature = "server")]
pub mod invitations;
#[cfg(feature = "server")]
pub mod limits;
#[cfg(feature = "server")]
pub mod mail;
#[cfg(feature = "server")]
pub mod net;
#[cfg(feature = "server")]
pub mod oauth;
#[cfg(feature = "server")]
pub mod password;
#[cfg(feature = "server")]
pub mod people;
#[cfg(feature = "server")]
pub mod secret_box;
#[cfg(feature = "server")]
pub mod sessions;
#[cfg(feature = "server")]
pub mod throttle;
#[cfg(feature = "server")]
pub mod two_factor;
#[cfg(feature = "server")]
pub mod usage;

#[cfg(feature = "server")]
pub use error::DomainError;
pub use role::Role;
