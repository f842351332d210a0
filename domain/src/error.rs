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
    /// 429. Too many wrong passwords for the account or from the address; no password was checked.
    #[error("Too many attempts. Try again in {} minute(s).", retry_after.div_ceil(60))]
    TooManyAttempts { retry_after: u64 },
    /// 503. Too much argon2 work is already waiting in this process; the client may retry shortly.
    #[error("the server is busy")]
    Busy,
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

    /// Whether the database could not be reached (down, restarting, pool exhausted) rather than refusing a
    /// query, or the process is too busy to take more argon2 work: answered with 503 so clients retry, and the
    /// pool reconnects by itself once the database is back.
    pub fn is_unavailable(&self) -> bool {
        use sea_orm::sqlx::Error as SqlxError;
        use sea_orm::RuntimeErr;
        if matches!(self, DomainError::Busy) {
            return true;
        }
        let DomainError::Database(err) = self else { return false };
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
            DbErr::Query(RuntimeErr::SqlxError(sqlx)) | DbErr::Exec(RuntimeErr::SqlxError(sqlx)) => {
                matches!(sqlx, SqlxError::Io(_) | SqlxError::PoolTimedOut | SqlxError::PoolClosed | SqlxError::WorkerCrashed)
                    || matches!(sqlx, SqlxError::Database(db) if db.code().is_some_and(|code| code.starts_with("57P") || code.starts_with("08")))
            }
            _ => false,
        }
    }

    /// Whether this is a server-side failure (logged with context, shown to the client as a bare 500).
    pub fn is_internal(&self) -> bool {
        matches!(self, DomainError::Database(_) | DomainError::Internal(_) | DomainError::Busy)
    }
}
