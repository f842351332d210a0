//! `AppError`: the one error type of caregate's server functions, and the one place that gives each its
//! HTTP status (server functions would otherwise answer every error with 500).
use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 401: not signed in, the session ended, or sign-in failed.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: missing, or another company's (indistinguishable on purpose).
    #[error("{0}")]
    NotFound(String),
    /// 409: conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 422: input that breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// 429: too many attempts; the response's `Retry-After` says how long to wait.
    #[error("{0}")]
    TooManyRequests(String),
    /// 503: the database cannot be reached right now.
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    /// 500: something broke on the server; details are in the server log only.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request never reached the function or its answer could not be read (network, decoding).
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use domain::DomainError;
    use http::StatusCode;

    use super::AppError;

    impl AppError {
        /// The HTTP status this error is answered with.
        pub fn status(&self) -> StatusCode {
            match self {
                AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                AppError::NotFound(_) => StatusCode::NOT_FOUND,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
                AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                AppError::Transport(_) => StatusCode::BAD_REQUEST,
            }
        }
    }

    /// Converts a domain refusal into the server function's answer and sets the response status to match.
    /// Internal errors are logged here with their details and reach the client as a bare 500.
    impl From<DomainError> for AppError {
        fn from(err: DomainError) -> Self {
            let app_error = match err {
                DomainError::InvalidCredentials
                | DomainError::Unauthenticated
                | DomainError::WrongPassword
                | DomainError::ReauthenticationRequired => AppError::Unauthorized(err.to_string()),
                DomainError::Forbidden(message) => AppError::Forbidden(message),
                DomainError::NotFound(_) => AppError::NotFound(err.to_string()),
                DomainError::Conflict(message) => AppError::Conflict(message),
                DomainError::Invalid(message) => AppError::Invalid(message),
                DomainError::TooManyAttempts { retry_after } => {
                    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                        response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(retry_after));
                    }
                    AppError::TooManyRequests(err.to_string())
                }
                DomainError::Database(_) if err.is_unavailable() => {
                    tracing::error!(error = %err, "the database is unavailable");
                    AppError::Unavailable
                }
                DomainError::Database(_) | DomainError::Internal(_) => {
                    tracing::error!(error = %err, "server function failed");
                    AppError::Internal
                }
            };
            if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(app_error.status());
            }
            app_error
        }
    }
}
