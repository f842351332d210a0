//! The expiry-reminder job: at start-up and every [`INTERVAL`], raise the reminders that are due (see
//! [`domain::alerts`]); `caregate reminders` runs it once.
use std::time::Duration;

use chrono::Utc;
use domain::alerts::{self, ReminderRun};
use domain::db::DatabaseConnection;
use domain::mail::Mailer;

/// How often a server looks for due reminders. A reminder is a day-granular promise, so minutes of delay do not
/// matter, and the query reads only keys inside the 7-day window.
pub const INTERVAL: Duration = Duration::from_secs(5 * 60);

/// One run now.
pub async fn run_once(db: &DatabaseConnection, mailer: &Mailer, public_url: &str) -> Result<ReminderRun, domain::DomainError> {
    let run = alerts::send_expiry_reminders(db, mailer, public_url, Utc::now()).await?;
    if run.raised > 0 {
        tracing::info!(raised = run.raised, mailed = run.mailed, "expiry reminders raised");
    }
    Ok(run)
}

/// Runs forever: once at start-up (catching up on anything due while no server ran), then every [`INTERVAL`].
/// A failed run is logged and the next one tries again.
pub async fn remind_periodically(db: DatabaseConnection, mailer: std::sync::Arc<Mailer>, public_url: String) {
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = run_once(&db, &mailer, &public_url).await {
            tracing::error!(error = %err, "the expiry-reminder run failed; the next one retries");
        }
    }
}
