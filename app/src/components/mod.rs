//! Display components shared by pages: the two layouts, dialogs, toasts, the keys panel, the People page's
//! table and dialogs, the alert summary, and small pieces.
mod alerts;
mod confirm;
mod copy;
mod frame;
mod keys;
mod modal;
mod notice;
mod paging;
pub mod people;
mod toast;
mod two_factor;
mod visit_table;

pub use alerts::{use_alert_summary, ExpiryBanner};
pub use confirm::{ConfirmDialog, ConfirmStep};
pub use frame::{use_current_user, OfficeLayout, PortalLayout};
pub use keys::{KeysPanel, ReauthStep, ScopePicker};
pub use modal::Modal;
pub use notice::{ErrorNotice, Loading};
pub use paging::{Pager, UserFilter};
pub use toast::use_toasts;
pub use two_factor::TwoFactorCard;
pub use visit_table::VisitTable;
