//! The demo data set: two companies, every role, and a fortnight of visits. Seeding twice changes nothing.
use crate::db::{ConnectionTrait, TransactionTrait};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};

use crate::accounts::{self, Account, Company, NewUser};
use crate::care::store::{self as care_store, NewMessage, NewOpenShift, NewPatient, NewVisit, PatientRef};
use crate::model::{CompanyId, VisitStatus};
use crate::password::Password;
use crate::{DomainError, Role};

/// Every demo account's password.
pub const DEMO_PASSWORD: &str = "caregate-demo";

/// One demo sign-in, for printing.
pub struct DemoAccount {
    pub company: &'static str,
    pub email: &'static str,
    pub role: Role,
}

/// The demo accounts, in the order they are printed.
pub const DEMO_ACCOUNTS: [DemoAccount; 6] = [
    DemoAccount { company: SUNRISE, email: SUNRISE_ROOT, role: Role::Root },
    DemoAccount { company: SUNRISE, email: "office@sunrise.test", role: Role::User },
    DemoAccount { company: SUNRISE, email: "barbara@sunrise.test", role: Role::Caregiver },
    DemoAccount { company: SUNRISE, email: "carl@sunrise.test", role: Role::Caregiver },
    DemoAccount { company: HARBOR, email: "root@harbor.test", role: Role::Root },
    DemoAccount { company: HARBOR, email: "hank@harbor.test", role: Role::Caregiver },
];

const SUNRISE: &str = "Sunrise Home Care";
const HARBOR: &str = "Harbor Care";
const SUNRISE_ROOT: &str = accounts::DEMO_MARKER_EMAIL;

/// What seeding did.
#[derive(Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Created,
    AlreadyPresent,
}

/// Creates the demo companies unless they exist (recognised by their root users' emails). A database that
/// already holds other companies is refused: demo accounts share one published password, and must never
/// appear beside an agency's real data.
pub async fn seed(db: &(impl ConnectionTrait + TransactionTrait)) -> Result<SeedOutcome, DomainError> {
    if accounts::holds_demo_accounts(db).await? {
        return Ok(SeedOutcome::AlreadyPresent);
    }
    let companies = accounts::count_companies(db).await?;
    if companies > 0 {
        return Err(DomainError::Conflict(format!(
            "This database already holds {companies} compan{} that are not the demo data; demo accounts (with their published \
             password) are only loaded into an empty database. Point DATABASE_URL at a new database to try the demo.",
            if companies == 1 { "y" } else { "ies" }
        )));
    }
    let txn = db.begin().await?;
    seed_sunrise(&txn).await?;
    seed_harbor(&txn).await?;
    txn.commit().await?;
    Ok(SeedOutcome::Created)
}

async fn add(db: &impl ConnectionTrait, company: &Company, email: &str, name: &str, role: Role) -> Result<Account, DomainError> {
    accounts::add_user(db, NewUser { company_id: company.id, email, name, role, password: Password::new(DEMO_PASSWORD) }).await
}

async fn add_patient(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    name: &str,
    address: &str,
    phone: &str,
    care_notes: &str,
) -> Result<PatientRef, DomainError> {
    care_store::insert_patient(db, NewPatient { company_id, name, address, phone, care_notes }).await
}

async fn add_visit(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    caregiver: &Account,
    patient: &PatientRef,
    starts_at: DateTime<Utc>,
    minutes: i64,
) -> Result<(), DomainError> {
    let ends_at = starts_at + Duration::minutes(minutes);
    let status = if ends_at < Utc::now() { VisitStatus::Completed } else { VisitStatus::Scheduled };
    care_store::insert_visit(db, NewVisit { company_id, caregiver: caregiver.id, patient: *patient, starts_at, ends_at, status }).await
}

async fn add_message(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    from: &Account,
    to: &Account,
    subject: &str,
    body: &str,
    hours_ago: i64,
) -> Result<(), DomainError> {
    let sent_at = Utc::now() - Duration::hours(hours_ago);
    care_store::insert_message(db, NewMessage { company_id, sender: from.id, recipient: to.id, subject, body, sent_at }).await
}

async fn add_open_shift(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    patient: &PatientRef,
    starts_at: DateTime<Utc>,
    notes: &str,
) -> Result<(), DomainError> {
    care_store::insert_open_shift(db, NewOpenShift { company_id, patient: *patient, starts_at, ends_at: starts_at + Duration::hours(2), notes }).await
}

/// Monday 00:00 UTC of the current week.
fn this_monday() -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    monday.and_time(NaiveTime::MIN).and_utc()
}

fn at(day: DateTime<Utc>, hour: i64, minute: i64) -> DateTime<Utc> {
    day + Duration::hours(hour) + Duration::minutes(minute)
}

async fn seed_sunrise(db: &impl ConnectionTrait) -> Result<(), DomainError> {
    let company = accounts::create_company(db, SUNRISE).await?;
    let _root = add(db, &company, SUNRISE_ROOT, "Rosa Martinez", Role::Root).await?;
    let office = add(db, &company, "office@sunrise.test", "Owen Price", Role::User).await?;
    let barbara = add(db, &company, "barbara@sunrise.test", "Barbara Lee", Role::Caregiver).await?;
    let carl = add(db, &company, "carl@sunrise.test", "Carl Jensen", Role::Caregiver).await?;

    let margaret =
        add_patient(db, company.id, "Margaret Ellis", "12 Oak Lane, Springfield", "555-0101", "Type 2 diabetes; insulin at breakfast.").await?;
    let harold = add_patient(db, company.id, "Harold Brooks", "48 Birch Road, Springfield", "555-0102", "Walker; fall risk on stairs.").await?;
    let dorothy =
        add_patient(db, company.id, "Dorothy Nguyen", "7 Maple Court, Springfield", "555-0103", "Post-surgery; wound dressing every other day.")
            .await?;
    let walter =
        add_patient(db, company.id, "Walter Simmons", "90 Cedar Street, Springfield", "555-0104", "Early dementia; prefers morning visits.").await?;

    let monday = this_monday();
    for day in (0..14).filter(|d| d % 7 < 5) {
        let date = monday + Duration::days(day);
        let (first, second) = if day % 2 == 0 { (&margaret, &harold) } else { (&harold, &margaret) };
        add_visit(db, company.id, &barbara, first, at(date, 9, 0), 60).await?;
        add_visit(db, company.id, &barbara, second, at(date, 13, 30), 90).await?;
        let (first, second) = if day % 2 == 0 { (&dorothy, &walter) } else { (&walter, &dorothy) };
        add_visit(db, company.id, &carl, first, at(date, 10, 0), 60).await?;
        add_visit(db, company.id, &carl, second, at(date, 15, 0), 45).await?;
    }

    add_message(
        db,
        company.id,
        &office,
        &barbara,
        "Margaret's new insulin plan",
        "Dr. Patel changed the morning dose; the new plan is in the kitchen folder.",
        20,
    )
    .await?;
    add_message(db, company.id, &barbara, &office, "Harold's walker", "The left wheel of Harold's walker is loose. Can we order a replacement?", 6)
        .await?;
    add_message(db, company.id, &office, &carl, "Walter prefers mornings", "Please keep Walter's visits before noon where you can.", 30).await?;
    add_message(db, company.id, &carl, &office, "Dressing supplies", "Dorothy is running low on dressing pads.", 3).await?;

    add_open_shift(db, company.id, &dorothy, at(monday + Duration::days(12), 18, 0), "Evening check-in; medication reminder.").await?;
    add_open_shift(db, company.id, &walter, at(monday + Duration::days(13), 8, 0), "Weekend breakfast and a short walk.").await?;
    Ok(())
}

async fn seed_harbor(db: &impl ConnectionTrait) -> Result<(), DomainError> {
    let company = accounts::create_company(db, HARBOR).await?;
    let root = add(db, &company, "root@harbor.test", "Hugo Andersen", Role::Root).await?;
    let hank = add(db, &company, "hank@harbor.test", "Hank Olsen", Role::Caregiver).await?;
    let ingrid = add_patient(db, company.id, "Ingrid Larsen", "3 Harbor View, Port Town", "555-0201", "Hearing aid; speak clearly.").await?;
    let monday = this_monday();
    for day in [0, 2, 4, 7, 9, 11] {
        add_visit(db, company.id, &hank, &ingrid, at(monday + Duration::days(day), 11, 0), 60).await?;
    }
    add_message(db, company.id, &root, &hank, "Welcome to Harbor Care", "Your first visits with Ingrid are on the schedule.", 48).await?;
    add_open_shift(db, company.id, &ingrid, at(monday + Duration::days(10), 16, 0), "Grocery run with Ingrid.").await?;
    Ok(())
}
