//! SeaORM entities, one per table; only the domain's repositories and services see them.
pub mod activity_event;
pub mod api_key;
pub mod company;
pub mod invitation;
pub mod message;
pub mod oauth_authorization;
pub mod oauth_client;
pub mod oauth_token;
pub mod open_shift;
pub mod patient;
pub mod recovery_code;
pub mod session;
pub mod sign_in_challenge;
pub mod user;
pub mod visit;
