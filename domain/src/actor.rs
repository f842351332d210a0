//! Who acts on the company's data through a service: a signed-in person, or an operator at the server's
//! command line. Services decide what each may do; the activity feed names the person, or the command line.
use crate::model::{CompanyId, CurrentUser, UserId};
use crate::{DomainError, Role};

pub enum Actor<'a> {
    User(&'a CurrentUser),
    Operator,
}

impl Actor<'_> {
    /// The person acting, for the activity feed; `None` for the operator.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User(user) => Some(user.id),
            Actor::Operator => None,
        }
    }

    /// Refuses (403) a signed-in person who is not a Root User; `what` completes "Only Root Users can …".
    pub fn require_root(&self, what: &str) -> Result<(), DomainError> {
        match self {
            Actor::User(user) if user.role != Role::Root => Err(DomainError::Forbidden(format!("Only Root Users can {what}"))),
            _ => Ok(()),
        }
    }

    /// Whether the actor sees the company's data: their own company, or every company for the operator.
    pub fn sees_company(&self, company_id: CompanyId) -> bool {
        match self {
            Actor::User(user) => user.company_id == company_id,
            Actor::Operator => true,
        }
    }
}
