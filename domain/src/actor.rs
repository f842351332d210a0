//! Who acts on the company's data through a service: a signed-in person, or an operator at the server's
//! command line. Services decide what each may do; the activity feed names the person, or the command line.
use crate::model::{CurrentUser, UserId};

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
}
