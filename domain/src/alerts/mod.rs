//! In-app alerts for one person (expiry reminders, leaked keys) and the expiry-reminder job that raises them.
//!
//! Reminders follow GitLab: one 7 days before a key (or OAuth connection) expires and one on its expiry day
//! (UTC), each as an alert and, when SMTP is set up, an e-mail to the owner (a caregiver only with their Email
//! notification switch on). Each reminder is claimed in the database before it is raised: the claim's
//! primary key (key, reminder) lets exactly one process win, however many share the database. The job looks
//! at every key that is due now, not at what changed since its last run, so it catches up after downtime: a
//! key that entered its 7-day window while no server ran still gets "expires in N days"; a key already on its
//! expiry day gets only "expires today" (the 7-day one would be stale); a key already expired gets nothing.
use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::db::{ConnectionTrait, TransactionTrait};
use crate::mail::{escape_html, Delivery, Mail, Mailer};
use crate::model::{AlertPage, AlertSummary, CompanyId, CurrentUser, UserId};
use crate::{DomainError, Role};

pub use crate::model::AlertKind;

pub(crate) mod store;

/// How long before expiry the first reminder goes out.
pub const REMINDER_LEAD: Duration = Duration::days(7);
/// Keys looked at per reminder and run at most, so a backlog (after long downtime) is worked off over a few
/// runs instead of in one unbounded query.
const REMINDER_BATCH: u64 = 500;
/// Alerts per page at most.
const MAX_PER_PAGE: u32 = 100;
/// The longest message an alert keeps (its column's size).
const MESSAGE_MAX: usize = 400;

/// One alert to raise.
pub struct NewAlert<'a> {
    pub user_id: UserId,
    pub company_id: CompanyId,
    pub kind: AlertKind,
    pub key_id: Option<&'a str>,
    pub message: String,
}

/// Raises an alert for its person, inside the caller's transaction when it has one.
pub async fn raise(db: &impl ConnectionTrait, alert: NewAlert<'_>, now: DateTime<Utc>) -> Result<(), DomainError> {
    let message: String = alert.message.chars().take(MESSAGE_MAX).collect();
    store::insert(db, alert.company_id, alert.user_id, alert.kind, alert.key_id, &message, now).await
}

/// The viewer's alerts, newest first.
pub async fn list(db: &impl ConnectionTrait, viewer: &CurrentUser, page: u32, per_page: u32) -> Result<AlertPage, DomainError> {
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    let page = page.max(1);
    let mut alerts = store::page(db, viewer.id, u64::from(page - 1) * u64::from(per_page), u64::from(per_page) + 1).await?;
    let has_more = alerts.len() > per_page as usize;
    alerts.truncate(per_page as usize);
    Ok(AlertPage { alerts, has_more, page, per_page })
}

/// The viewer's unread alerts and their active keys that expire within [`REMINDER_LEAD`].
pub async fn summary(db: &impl ConnectionTrait, viewer: &CurrentUser, now: DateTime<Utc>) -> Result<AlertSummary, DomainError> {
    Ok(AlertSummary {
        unread: store::count_unread(db, viewer.id).await?,
        keys_expiring_this_week: store::count_keys_expiring(db, viewer.id, now, now + REMINDER_LEAD).await?,
    })
}

/// Marks one of the viewer's alerts read; another person's alert is "not found".
pub async fn mark_read(db: &impl ConnectionTrait, viewer: &CurrentUser, alert_id: i32, now: DateTime<Utc>) -> Result<(), DomainError> {
    if store::mark_read(db, viewer.id, Some(alert_id), now).await? == 0 && !store::exists(db, viewer.id, alert_id).await? {
        return Err(DomainError::NotFound("Alert"));
    }
    Ok(())
}

/// Marks every alert of the viewer read.
pub async fn mark_all_read(db: &impl ConnectionTrait, viewer: &CurrentUser, now: DateTime<Utc>) -> Result<(), DomainError> {
    store::mark_read(db, viewer.id, None, now).await.map(|_| ())
}

/// A key (or OAuth connection) a reminder is due for, with what its owner needs to hear about it.
pub(crate) struct DueKey {
    pub api_key_id: i32,
    pub key_id: String,
    pub company_id: CompanyId,
    pub expires_at: DateTime<Utc>,
    /// The key's label, or the OAuth client's name for a connection.
    pub name: String,
    pub is_connection: bool,
    pub owner: Owner,
}

pub(crate) struct Owner {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub notify_email: bool,
}

/// Which reminder is due for a key expiring at `expires_at`, seen at `now`: "today" on its UTC expiry day,
/// "soon" within [`REMINDER_LEAD`] before that, none once it has expired or while it is further out.
pub fn due_reminder(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<AlertKind> {
    if expires_at <= now {
        None
    } else if expires_at < end_of_day(now) {
        Some(AlertKind::KeyExpiresToday)
    } else if expires_at - now <= REMINDER_LEAD {
        Some(AlertKind::KeyExpiresSoon)
    } else {
        None
    }
}

/// The first instant of the UTC day after `now`'s.
fn end_of_day(now: DateTime<Utc>) -> DateTime<Utc> {
    (now.date_naive() + Duration::days(1)).and_time(NaiveTime::MIN).and_utc()
}

/// Whole days left until `expires_at`, rounded up (a key due in 6 days and 2 hours "expires in 7 days").
fn days_left(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let seconds = (expires_at - now).num_seconds().max(0);
    (seconds + 86_399) / 86_400
}

/// The alert's (and the e-mail's first) sentence.
fn reminder_message(key: &DueKey, kind: AlertKind, now: DateTime<Utc>) -> String {
    let what = if key.is_connection {
        format!("Your connection '{}' (Key ID {})", key.name, key.key_id)
    } else {
        format!("Your API key '{}' (Key ID {})", key.name, key.key_id)
    };
    let on = key.expires_at.format("%b %-d, %Y at %H:%M UTC");
    match kind {
        AlertKind::KeyExpiresToday => format!("{what} expires today, {on}. Roll it now so its client keeps working."),
        _ => {
            let days = days_left(key.expires_at, now);
            let unit = if days == 1 { "day" } else { "days" };
            format!("{what} expires in {days} {unit}, on {on}. Roll it before then so its client keeps working.")
        }
    }
}

fn reminder_mail(key: &DueKey, message: &str, public_url: &str) -> Mail {
    let keys_page =
        format!("{}{}", public_url.trim_end_matches('/'), if key.owner.role == Role::Caregiver { "/portal/settings" } else { "/settings" });
    let subject = if key.is_connection {
        format!("Your caregate connection '{}' expires soon", key.name)
    } else {
        format!("Your caregate API key '{}' expires soon", key.name)
    };
    let text = format!("Hello {},\n\n{message}\n\nYour keys: {keys_page}\n", key.owner.name);
    let html = format!(
        "<p>Hello {},</p><p>{}</p><p><a href=\"{}\">Your keys</a></p>",
        escape_html(&key.owner.name),
        escape_html(message),
        escape_html(&keys_page)
    );
    Mail { to: key.owner.email.clone(), subject, text, html }
}

/// What one run of the reminder job did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReminderRun {
    /// Reminders this process claimed and raised as alerts.
    pub raised: u32,
    /// Of those, e-mails handed to the SMTP server.
    pub mailed: u32,
}

/// Raises every expiry reminder due at `now` that no process has claimed yet. Safe to run on several
/// processes at once: the claim and the alert commit together, and a claim another process holds is skipped.
/// A failed e-mail is logged and not retried (the alert stays).
pub async fn send_expiry_reminders(
    db: &(impl ConnectionTrait + TransactionTrait),
    mailer: &Mailer,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<ReminderRun, DomainError> {
    let mut run = ReminderRun::default();
    let windows = [(AlertKind::KeyExpiresToday, now, end_of_day(now)), (AlertKind::KeyExpiresSoon, end_of_day(now), now + REMINDER_LEAD)];
    for (kind, from, until) in windows {
        for key in store::unclaimed_keys_expiring(db, kind, from, until, REMINDER_BATCH).await? {
            if due_reminder(key.expires_at, now) != Some(kind) {
                continue;
            }
            let message = reminder_message(&key, kind, now);
            let txn = db.begin().await?;
            if !store::claim(&txn, key.api_key_id, kind, now).await? {
                continue;
            }
            let alert = NewAlert { user_id: key.owner.id, company_id: key.company_id, kind, key_id: Some(&key.key_id), message: message.clone() };
            raise(&txn, alert, now).await?;
            txn.commit().await?;
            run.raised += 1;
            if key.owner.role == Role::Caregiver && !key.owner.notify_email {
                continue;
            }
            match mailer.send(reminder_mail(&key, &message, public_url)).await {
                Ok(Delivery::Sent) => run.mailed += 1,
                Ok(Delivery::NotConfigured) => {}
                Err(err) => tracing::warn!(error = %err, key_id = %key.key_id, "the expiry reminder e-mail was not sent"),
            }
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn a_key_further_out_than_seven_days_gets_no_reminder_yet() {
        assert_eq!(due_reminder(at(11, 10), at(3, 9)), None);
    }

    #[test]
    fn a_key_within_seven_days_is_reminded_that_it_expires_soon() {
        assert_eq!(due_reminder(at(10, 9), at(3, 9)), Some(AlertKind::KeyExpiresSoon));
        assert_eq!(due_reminder(at(4, 1), at(3, 9)), Some(AlertKind::KeyExpiresSoon));
    }

    #[test]
    fn a_key_on_its_utc_expiry_day_is_reminded_that_it_expires_today() {
        assert_eq!(due_reminder(at(3, 23), at(3, 9)), Some(AlertKind::KeyExpiresToday));
    }

    #[test]
    fn an_expired_key_gets_no_reminder() {
        assert_eq!(due_reminder(at(3, 8), at(3, 9)), None);
    }

    #[test]
    fn days_left_round_up_so_a_reminder_never_understates_the_time() {
        assert_eq!(days_left(at(10, 9), at(3, 9)), 7);
        assert_eq!(days_left(at(6, 10), at(3, 9)), 4);
        assert_eq!(days_left(at(4, 8), at(3, 9)), 1);
    }
}
