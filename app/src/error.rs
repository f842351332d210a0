//! `AppError`: the one error type of caregate's server functions, and the one place that gives each its
//! HTTP status (server functions would otherwise answer every error with 500).
use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 400: the request's arguments could not be decoded (a field missing, of the wrong type, or a body that is
    /// not the expected encoding); the message says what the decoder found.
    #[error("{0}")]
    BadRequest(String),
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

    /// Arguments the server could not decode are the client's mistake: 400 with the decoder's words (clipped),
    /// not a 500. (On the server, the JSON codec reports undecodable arguments as `Deserialization`; in the
    /// browser that variant means an answer it could not read.) Everything else that fails around a call is a
    /// transport failure seen by the browser.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(reason) => AppError::bad_arguments(reason),
            ServerFnErrorErr::Args(reason) | ServerFnErrorErr::MissingArg(reason) => AppError::bad_arguments(reason),
            other => AppError::Transport(other.to_string()),
        }
    }
}

impl AppError {
    /// A 400 for arguments that did not decode, naming what the decoder found (without control characters,
    /// clipped); on the server it also sets the response's status.
    fn bad_arguments(reason: String) -> AppError {
        let reason: String = reason.chars().filter(|c| !c.is_control()).take(300).collect();
        let error = AppError::BadRequest(format!("The request's arguments could not be read: {reason}"));
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(error.status());
        }
        error
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
                AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
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
                DomainError::Database(_) | DomainError::Busy if err.is_unavailable() => {
                    tracing::error!(error = %err, "the service is unavailable");
                    AppError::Unavailable
                }
                DomainError::Database(_) | DomainError::Internal(_) | DomainError::Busy => {
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
