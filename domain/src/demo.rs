//! The demo data set: two companies, every role, and a fortnight of visits. Seeding twice changes nothing.
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use crate::accounts::{self, Account, Company, NewUser};
use crate::entity::{company, message, open_shift, patient, user, visit};
use crate::model::VisitStatus;
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
    DemoAccount { company: SUNRISE, email: "root@sunrise.test", role: Role::Root },
    DemoAccount { company: SUNRISE, email: "office@sunrise.test", role: Role::User },
    DemoAccount { company: SUNRISE, email: "barbara@sunrise.test", role: Role::Caregiver },
    DemoAccount { company: SUNRISE, email: "carl@sunrise.test", role: Role::Caregiver },
    DemoAccount { company: HARBOR, email: "root@harbor.test", role: Role::Root },
    DemoAccount { company: HARBOR, email: "hank@harbor.test", role: Role::Caregiver },
];

const SUNRISE: &str = "Sunrise Home Care";
const HARBOR: &str = "Harbor Care";

/// What seeding did.
#[derive(Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Created,
    AlreadyPresent,
}

/// Refuses (409) when the demo companies are in this database: real agencies' data never goes beside accounts
/// whose password is published.
pub async fn refuse_if_present(db: &impl ConnectionTrait) -> Result<(), DomainError> {
    if user::Entity::find().filter(user::Column::Email.eq("root@sunrise.test")).one(db).await?.is_some() {
        return Err(DomainError::Conflict(
            "This database holds the demo companies, whose accounts share a published password; create real companies in a new \
             database (point DATABASE_URL at it)."
                .to_owned(),
        ));
    }
    Ok(())
}

/// Creates the demo companies unless they exist (recognised by their root users' emails). A database that
/// already holds other companies is refused: demo accounts share one published password, and must never
/// appear beside an agency's real data.
pub async fn seed(db: &(impl ConnectionTrait + TransactionTrait)) -> Result<SeedOutcome, DomainError> {
    use sea_orm::PaginatorTrait;
    let exists = user::Entity::find().filter(user::Column::Email.eq("root@sunrise.test")).one(db).await?.is_some();
    if exists {
        return Ok(SeedOutcome::AlreadyPresent);
    }
    let companies = company::Entity::find().count(db).await?;
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
    company_id: i32,
    name: &str,
    address: &str,
    phone: &str,
    notes: &str,
) -> Result<patient::Model, DomainError> {
    Ok(patient::ActiveModel {
        company_id: Set(company_id),
        name: Set(name.into()),
        address: Set(address.into()),
        phone: Set(phone.into()),
        care_notes: Set(notes.into()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

async fn add_visit(
    db: &impl ConnectionTrait,
    company_id: i32,
    caregiver: &Account,
    patient: &patient::Model,
    starts_at: DateTime<Utc>,
    minutes: i64,
) -> Result<(), DomainError> {
    let status = if starts_at + Duration::minutes(minutes) < Utc::now() { VisitStatus::Completed } else { VisitStatus::Scheduled };
    visit::ActiveModel {
        company_id: Set(company_id),
        caregiver_id: Set(caregiver.id),
        patient_id: Set(patient.id),
        starts_at: Set(starts_at),
        ends_at: Set(starts_at + Duration::minutes(minutes)),
        status: Set(status),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn add_message(
    db: &impl ConnectionTrait,
    company_id: i32,
    from: &Account,
    to: &Account,
    subject: &str,
    body: &str,
    hours_ago: i64,
) -> Result<(), DomainError> {
    message::ActiveModel {
        company_id: Set(company_id),
        sender_id: Set(from.id),
        recipient_id: Set(to.id),
        subject: Set(subject.into()),
        body: Set(body.into()),
        sent_at: Set(Utc::now() - Duration::hours(hours_ago)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn add_open_shift(
    db: &impl ConnectionTrait,
    company_id: i32,
    patient: &patient::Model,
    starts_at: DateTime<Utc>,
    notes: &str,
) -> Result<(), DomainError> {
    open_shift::ActiveModel {
        company_id: Set(company_id),
        patient_id: Set(patient.id),
        starts_at: Set(starts_at),
        ends_at: Set(starts_at + Duration::hours(2)),
        notes: Set(notes.into()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
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
    let _root = add(db, &company, "root@sunrise.test", "Rosa Martinez", Role::Root).await?;
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
