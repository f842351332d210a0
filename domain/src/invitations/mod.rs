//! Inviting people: a Root User (or the operator) adds a person by name, email and role, which creates their
//! account without a password and a one-time link, valid for [`INVITATION_LIFETIME`], with which they set one
//! and are signed in. The link's secret exists only in the answer to the inviter (and the e-mail, when mail is
//! configured); the database keeps its SHA-256. A new link replaces the old ones; cancelling removes the account
//! the invitation created.
use chrono::{DateTime, Duration, Utc};

use crate::accounts::{self, store as account_store, Account, Email};
use crate::activity::{self, Action, NewEvent, Origin};
use crate::actor::Actor;
use crate::db::{DatabaseConnection, TransactionTrait};
use crate::mail::{Delivery, Mail, Mailer};
use crate::model::{CompanyId, CurrentUser, InvitationView, PersonStatus, UserId};
use crate::password::{self, Password};
use crate::{DomainError, Role};

pub(crate) mod store;

/// How long an invitation link works.
pub const INVITATION_LIFETIME: Duration = Duration::hours(72);

/// The secret of an invitation link. Not `Debug` or `Serialize`: it goes into the link shown once, and nowhere
/// else.
pub struct InvitationSecret(String);

impl InvitationSecret {
    /// Wraps the secret from a link's path.
    pub fn from_link(value: &str) -> Self {
        InvitationSecret(value.trim().to_owned())
    }

    /// The invitation page's address on this server.
    pub fn link(&self, public_url: &str) -> String {
        format!("{}/invite/{}", public_url.trim_end_matches('/'), self.0)
    }

    /// The digest the invitation is stored under, or `None` when the text cannot be a secret we issued.
    fn digest(&self) -> Option<String> {
        (self.0.len() == 64 && self.0.bytes().all(|b| b.is_ascii_hexdigit())).then(|| crate::bearer::digest(&self.0.to_ascii_lowercase()))
    }
}

/// A person invited just now, with the link's secret.
pub struct Invitation {
    pub account: Account,
    /// The company the person is invited to.
    pub company_name: String,
    pub secret: InvitationSecret,
    pub expires_at: DateTime<Utc>,
}

/// Who to invite.
pub struct NewPerson<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
}

/// Invites a person to `company_id`: Root Users to their own company (any role, Root included), the operator to
/// any. A taken email is a 409.
pub async fn invite(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    company_id: CompanyId,
    person: NewPerson<'_>,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<Invitation, DomainError> {
    actor.require_root("invite people")?;
    if !actor.sees_company(company_id) {
        return Err(DomainError::NotFound("Company"));
    }
    let email = Email::parse(person.email)?;
    let name = accounts::parse_name(person.name, "Name")?;
    let txn = db.begin().await?;
    let account = account_store::insert_invited_user(&txn, company_id, &email, &name, person.role, now).await?;
    let (secret, expires_at) = issue(&txn, actor, &account, now).await?;
    record(
        &txn,
        actor,
        &account,
        Action::UserInvited,
        format!("{} ({}) as {}", account.name, account.email, account.role.display_name()),
        origin,
        now,
    )
    .await?;
    let company_name = company_of(&txn, &account).await?;
    txn.commit().await?;
    Ok(Invitation { account, company_name, secret, expires_at })
}

/// A new link for a person who has not accepted yet; their earlier links stop working.
pub async fn renew(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    user_id: UserId,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<Invitation, DomainError> {
    let account = invited(db, actor, user_id).await?;
    let txn = db.begin().await?;
    store::delete_for_user(&txn, account.id).await?;
    let (secret, expires_at) = issue(&txn, actor, &account, now).await?;
    record(&txn, actor, &account, Action::UserInvited, format!("{} ({}): a new invitation link", account.name, account.email), origin, now).await?;
    let company_name = company_of(&txn, &account).await?;
    txn.commit().await?;
    Ok(Invitation { account, company_name, secret, expires_at })
}

/// Withdraws an invitation that has not been accepted: the account it created is removed.
pub async fn cancel(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    user_id: UserId,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<Account, DomainError> {
    let account = invited(db, actor, user_id).await?;
    let txn = db.begin().await?;
    record(&txn, actor, &account, Action::InvitationCancelled, format!("{} ({})", account.name, account.email), origin, now).await?;
    if !account_store::delete_invited_user(&txn, account.id).await? {
        return Err(DomainError::Conflict(format!("{} has already accepted the invitation", account.name)));
    }
    txn.commit().await?;
    Ok(account)
}

/// What the invitation page shows; unknown, used and expired links are refused with a message that says so.
pub async fn lookup(db: &DatabaseConnection, secret: &InvitationSecret, now: DateTime<Utc>) -> Result<InvitationView, DomainError> {
    let (invitation, account, company) = usable(db, secret, now).await?;
    Ok(InvitationView { company_name: company.name, name: account.name, email: account.email, role: account.role, expires_at: invitation.expires_at })
}

/// Accepts an invitation: the person's password is set, their account becomes active, and they are returned
/// signed in (the caller starts the session). A link works once.
pub async fn accept(
    db: &DatabaseConnection,
    secret: &InvitationSecret,
    new_password: &str,
    confirm: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<CurrentUser, DomainError> {
    let (invitation, account, _) = usable(db, secret, now).await?;
    if new_password != confirm {
        return Err(DomainError::Invalid("The passwords do not match".to_owned()));
    }
    let hash = password::hash(Password::parse_new(new_password)?).await?;
    let txn = db.begin().await?;
    if !store::mark_accepted(&txn, invitation.id, now).await? {
        return Err(DomainError::Conflict(USED.to_owned()));
    }
    account_store::activate_with_password(&txn, account.id, &hash).await?;
    accounts::record_sign_in(&txn, account.id, now).await?;
    let event = NewEvent {
        company_id: account.company_id,
        actor_user_id: Some(account.id),
        key_id: None,
        action: Action::UserJoined,
        target: format!("{} ({}) set a password and joined as {}", account.name, account.email, account.role.display_name()),
        origin,
        at: now,
    };
    activity::record(&txn, event).await?;
    txn.commit().await?;
    accounts::current_user(db, account.id).await?.ok_or(DomainError::NotFound("Invitation"))
}

async fn company_of(db: &impl crate::db::ConnectionTrait, account: &Account) -> Result<String, DomainError> {
    Ok(account_store::user_with_company(db, account.id).await?.map(|(_, company)| company.name).unwrap_or_default())
}

/// The invitation e-mail: whom to which company, the link, and until when it works.
pub fn mail(invited: &Invitation, link: &str) -> Mail {
    let company_name = invited.company_name.as_str();
    use crate::mail::escape_html;
    let until = invited.expires_at.format("%b %-d, %Y at %H:%M UTC");
    let role = invited.account.role.display_name();
    let text = format!(
        "Hello {name},\n\nYou are invited to join {company} on caregate as a {role}.\n\nSet your password here (the link works once, until {until}):\n{link}\n\nIf you did not expect this, you can ignore this e-mail.\n",
        name = invited.account.name,
        company = company_name,
    );
    let html = format!(
        "<p>Hello {name},</p><p>You are invited to join <strong>{company}</strong> on caregate as a {role}.</p><p><a href=\"{link}\">Set your password</a> (the link works once, until {until}).</p><p>If you did not expect this, you can ignore this e-mail.</p>",
        name = escape_html(&invited.account.name),
        company = escape_html(company_name),
        link = escape_html(link),
    );
    Mail { to: invited.account.email.clone(), subject: format!("You are invited to {company_name} on caregate"), text, html }
}

/// E-mails the invitation when mail is set up; returns whether it went. A failed delivery is logged (without
/// the link) and does not undo the invitation: the inviter still has the link to pass on.
pub async fn send(mailer: &Mailer, invited: &Invitation, public_url: &str) -> bool {
    match mailer.send(mail(invited, &invited.secret.link(public_url))).await {
        Ok(Delivery::Sent) => true,
        Ok(Delivery::NotConfigured) => false,
        Err(err) => {
            tracing::warn!(error = %err, to = %invited.account.email, "the invitation e-mail was not sent");
            false
        }
    }
}

const USED: &str = "This invitation has already been used. Sign in with your email and password.";

/// The invitation behind a link, with its person and company, if it can still be accepted.
async fn usable(
    db: &DatabaseConnection,
    secret: &InvitationSecret,
    now: DateTime<Utc>,
) -> Result<(store::StoredInvitation, Account, accounts::Company), DomainError> {
    let digest = secret.digest().ok_or(DomainError::NotFound("Invitation"))?;
    let invitation = store::find(db, &digest).await?.ok_or(DomainError::NotFound("Invitation"))?;
    if invitation.accepted_at.is_some() {
        return Err(DomainError::Conflict(USED.to_owned()));
    }
    if invitation.expires_at <= now {
        return Err(DomainError::Conflict(format!(
            "This invitation expired on {}. Ask a Root User of your company for a new link.",
            invitation.expires_at.format("%b %-d, %Y at %H:%M UTC")
        )));
    }
    let (account, company) = account_store::user_with_company(db, invitation.user_id).await?.ok_or(DomainError::NotFound("Invitation"))?;
    if account.status != PersonStatus::Invited {
        return Err(DomainError::Conflict(USED.to_owned()));
    }
    Ok((invitation, account, company))
}

/// The invited person `user_id`, if the actor may manage them and they have not accepted yet.
async fn invited(db: &DatabaseConnection, actor: &Actor<'_>, user_id: UserId) -> Result<Account, DomainError> {
    actor.require_root("invite people")?;
    let account = account_store::account(db, user_id).await?.filter(|a| actor.sees_company(a.company_id)).ok_or(DomainError::NotFound("User"))?;
    if account.status != PersonStatus::Invited {
        return Err(DomainError::Conflict(format!("{} has already accepted the invitation", account.name)));
    }
    Ok(account)
}

/// Stores a fresh invitation for `account` and returns its secret and expiry.
async fn issue(
    txn: &impl crate::db::ConnectionTrait,
    actor: &Actor<'_>,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<(InvitationSecret, DateTime<Utc>), DomainError> {
    let secret = InvitationSecret(crate::bearer::random_secret());
    let digest = secret.digest().ok_or_else(|| DomainError::Internal("a fresh invitation secret has the wrong form".into()))?;
    let expires_at = now + INVITATION_LIFETIME;
    let new = store::NewInvitation {
        token_hash: &digest,
        company_id: account.company_id,
        user_id: account.id,
        invited_by: actor.user_id(),
        created_at: now,
        expires_at,
    };
    store::insert(txn, new).await?;
    Ok((secret, expires_at))
}

async fn record(
    txn: &impl crate::db::ConnectionTrait,
    actor: &Actor<'_>,
    account: &Account,
    action: Action,
    target: String,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let event = NewEvent { company_id: account.company_id, actor_user_id: actor.user_id(), key_id: None, action, target, origin, at: now };
    activity::record(txn, event).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_text_that_could_be_an_issued_secret_is_looked_up() {
        assert!(InvitationSecret::from_link("not-a-secret").digest().is_none());
        assert!(InvitationSecret::from_link(&"g".repeat(64)).digest().is_none());
        let issued = crate::bearer::random_secret();
        let upper = InvitationSecret::from_link(&issued.to_ascii_uppercase());
        assert_eq!(upper.digest(), InvitationSecret::from_link(&issued).digest(), "hex digits in either case name one invitation");
    }

    #[test]
    fn a_link_points_at_the_invitation_page_of_the_public_origin() {
        let secret = InvitationSecret::from_link("ab");
        assert_eq!(secret.link("https://care.example/"), "https://care.example/invite/ab");
    }
}
