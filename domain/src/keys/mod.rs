//! API keys: the rules (label, expiry policy, status) in plain Rust, and behind the `server` feature the token
//! format, storage, the service that mints, lists, revokes and deletes keys, revoking tokens reported as
//! leaked, and the verifier with what it yields (the principal a key acts as, or why it was refused).
pub mod policy;

#[cfg(feature = "server")]
pub mod allowlist;
#[cfg(feature = "server")]
pub mod freshness;
#[cfg(feature = "server")]
pub mod leaks;
#[cfg(feature = "server")]
pub mod principal;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub(crate) mod store;
#[cfg(feature = "server")]
pub mod token;
#[cfg(feature = "server")]
pub mod verifier;
