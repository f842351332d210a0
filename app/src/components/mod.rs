//! Display components shared by pages: the two layouts and the small pieces every list uses.
mod frame;
mod notice;
mod visit_table;

pub use frame::{use_current_user, OfficeLayout, PortalLayout};
pub use notice::{ErrorNotice, Loading};
pub use visit_table::VisitTable;
