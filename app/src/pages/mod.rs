//! One module per route.
mod login;
mod login_code;
mod not_found;
mod office_activity;
mod office_dashboard;
mod office_patients;
mod office_settings;
mod office_visits;
mod portal_dashboard;
mod portal_messages;
mod portal_schedule;
mod portal_settings;
mod portal_visits;

pub use login::LoginPage;
pub use login_code::LoginCodePage;
pub use not_found::NotFoundPage;
pub use office_activity::OfficeActivityPage;
pub use office_dashboard::OfficeDashboardPage;
pub use office_patients::OfficePatientsPage;
pub use office_settings::OfficeSettingsRoute;
pub use office_visits::OfficeVisitsPage;
pub use portal_dashboard::PortalDashboardPage;
pub use portal_messages::PortalMessagesPage;
pub use portal_schedule::PortalSchedulePage;
pub use portal_settings::PortalSettingsRoute;
pub use portal_visits::PortalVisitsPage;
