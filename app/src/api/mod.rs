//! Server functions, by concern. Each is thin: resolve the caller, call the domain service, map the error.
pub mod account;
pub mod activity;
pub mod alerts;
#[cfg(feature = "ssr")]
pub mod auth;
pub mod care;
pub mod disclosures;
pub mod keys;
pub mod oauth;
pub mod people;
pub mod session;
pub mod usage;
