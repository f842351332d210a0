//! The database schema of caregate as ordered SeaORM migrations, shared by SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;

mod m0001_tenancy;
mod m0002_care_data;
mod m0003_api_keys;
mod m0004_notification_preferences;
mod m0005_key_rate_limit;
mod m0006_invitations;
mod m0007_two_factor;
mod m0008_key_creators;
mod m0009_oauth;
mod m0010_key_allowlists_and_rolls;
mod m0011_alerts_and_usage;
mod m0012_disclosures;
mod m0013_limit_counters;
mod m0014_activity_repeats;

/// Applies caregate's migrations in order; `caregate migrate` and server start-up both run it.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_tenancy::Migration),
            Box::new(m0002_care_data::Migration),
            Box::new(m0003_api_keys::Migration),
            Box::new(m0004_notification_preferences::Migration),
            Box::new(m0005_key_rate_limit::Migration),
            Box::new(m0006_invitations::Migration),
            Box::new(m0007_two_factor::Migration),
            Box::new(m0008_key_creators::Migration),
            Box::new(m0009_oauth::Migration),
            Box::new(m0010_key_allowlists_and_rolls::Migration),
            Box::new(m0011_alerts_and_usage::Migration),
            Box::new(m0012_disclosures::Migration),
            Box::new(m0013_limit_counters::Migration),
            Box::new(m0014_activity_repeats::Migration),
        ]
    }
}
