//! The API Keys panel shared by office Settings and the caregiver portal: the table, its filters, and the
//! generate, revoke and delete dialogs.
mod confirm;
mod generate;
mod panel;
mod reveal;
mod table;

pub use panel::KeysPanel;
