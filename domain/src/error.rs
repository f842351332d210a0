//! `DomainError`: everything the domain services can refuse, independent of HTTP.
//!
//! Each variant's doc names the HTTP status the web boundary gives it; the mapping itself lives in exactly
//! one place per boundary (`app::error` for server functions, the server's API error for HTTP routes).
use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// 401. Wrong password, unknown email and inactive user share this one message on purpose.
    #[error("Invalid email or password")]
    InvalidCredentials,
    /// 401. No session, an expired one, or one whose user was deactivated.
    #[error("Please sign in to continue")]
    Unauthenticated,
    /// 401. A password confirmation (re-authentication) with the wrong password.
    #[error("That password is not correct")]
    WrongPassword,
    /// 401. The action needs a password confirmation from the last few minutes.
    #[error("Please confirm your password to continue")]
    ReauthenticationRequired,
    /// 403. Signed in, but the role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404. Missing, or belonging to another company (which must look the same).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409. The request conflicts with the current state (duplicate email, already revoked…).
    #[error("{0}")]
    Conflict(String),
    /// 422. Input that does not parse or breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// 500. The text is logged on the server and never sent to a client.
    #[error("database error: {0}")]
    Database(DbErr),
    /// 500. A bug or an exhausted resource; logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbErr> for DomainError {
    fn from(err: DbErr) -> Self {
        DomainError::Database(err)
    }
}

impl DomainError {
    /// Turns a unique-constraint violation into a 409 with `message`; any other database error stays a 500.
    pub fn conflict_on_unique(err: DbErr, message: &str) -> DomainError {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => DomainError::Conflict(message.to_owned()),
            _ => DomainError::Database(err),
        }
    }

    /// Whether this is a server-side failure (logged with context, shown to the client as a bare 500).
    pub fn is_internal(&self) -> bool {
        matches!(self, DomainError::Database(_) | DomainError::Internal(_))
    }
}
