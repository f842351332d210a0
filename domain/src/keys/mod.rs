//! API keys: the rules (label, expiry policy, status) in plain Rust, and behind the `server` feature the token
//! format, hashing, storage and the service that mints, lists, revokes, deletes and verifies keys.
pub mod policy;

#[cfg(feature = "server")]
mod repo;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod token;
#[cfg(feature = "server")]
pub mod verifier;
