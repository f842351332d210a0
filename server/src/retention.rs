//! The retention job: at start-up and every [`INTERVAL`], delete activity events and disclosures older than
//! each company's retention (see [`domain::disclosures::purge_expired`]).
use std::time::Duration;

use chrono::Utc;
use domain::db::DatabaseConnection;
use domain::disclosures::{self, Purged};

/// Once a day: retention is counted in years, so a day's delay does not matter.
pub const INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// One run now.
pub async fn run_once(db: &DatabaseConnection) -> Result<Purged, domain::DomainError> {
    let purged = disclosures::purge_expired(db, Utc::now()).await?;
    if purged != Purged::default() {
        tracing::info!(events = purged.events, disclosures = purged.disclosures, "records past their retention deleted");
    }
    Ok(purged)
}

/// Runs forever: once at start-up, then every [`INTERVAL`]. A failed run is logged and the next one tries again.
pub async fn purge_periodically(db: DatabaseConnection) {
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = run_once(&db).await {
            tracing::error!(error = %err, "the retention run failed; the next one retries");
        }
    }
}
