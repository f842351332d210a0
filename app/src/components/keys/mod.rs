//! The API Keys panel shared by office Settings and the caregiver portal: the table, its filters, the
//! generate, roll, allowed-IP, revoke and delete dialogs, and Quick Setup for apps that connect without a key. The
//! re-authentication step and the scope picker also serve the OAuth consent page.
mod allowlist;
mod confirm;
mod connect;
mod details;
mod generate;
mod panel;
mod reauth;
mod reveal;
mod roll;
mod scopes;
mod table;

pub use panel::KeysPanel;
pub use reauth::ReauthStep;
pub use scopes::ScopePicker;
