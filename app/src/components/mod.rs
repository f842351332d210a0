//! Display components shared by pages: the two layouts, dialogs, toasts, the keys panel and small pieces.
mod frame;
mod keys;
mod modal;
mod notice;
mod paging;
mod toast;
mod two_factor;
mod visit_table;

pub use frame::{use_current_user, OfficeLayout, PortalLayout};
pub use keys::KeysPanel;
pub use notice::{ErrorNotice, Loading};
pub use paging::{Pager, UserFilter};
pub use two_factor::TwoFactorCard;
pub use visit_table::VisitTable;
