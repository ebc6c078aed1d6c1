//! One error shape for the whole API: `{"status": 404, "error": "Not Found", "message": "..."}`.
//! (`status` is the field the JS SDK reads into `err.statusCode`.)

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::domain::DomainError;
use crate::storage::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub www_authenticate: Option<&'static str>,
    pub retry_after: Option<u64>,
}

/// The body of every error answer of the API (not of the token endpoint, whose errors
/// follow RFC 6749).
#[derive(Serialize, ToSchema)]
#[schema(as = ApiError)]
pub struct ErrorBody<'a> {
    /// The HTTP status code, repeated (the JS SDK reads it into `err.statusCode`).
    #[schema(example = 404)]
    status: u16,
    /// The status code's reason phrase.
    #[schema(example = "Not Found")]
    error: &'a str,
    /// What went wrong, for a person.
    #[schema(example = "cluster \"4b3f…\" not found")]
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            www_authenticate: None,
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn unauthorized(challenge: &'static str) -> Self {
        ApiError {
            www_authenticate: Some(challenge),
            ..Self::new(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
        }
    }

    /// Logs the cause and answers with a message that reveals nothing of it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }

    /// A rate limit: nothing was done; `Retry-After` says when to come back.
    pub fn too_many_requests(wait: std::time::Duration) -> Self {
        let seconds = super::limits::retry_after_secs(wait);
        ApiError {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many requests; retry in {seconds} seconds"),
            )
        }
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "database unavailable");
        ApiError {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service is temporarily unavailable",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status: self.status.as_u16(),
            error: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(challenge) = self.www_authenticate {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let status = match e {
            DomainError::Invalid(_) => StatusCode::BAD_REQUEST,
            DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
            DomainError::NotFound(_) => StatusCode::NOT_FOUND,
            DomainError::Conflict(_) => StatusCode::CONFLICT,
            DomainError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
        };
        Self::new(status, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => Self::unavailable(cause),
            other => Self::internal(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Store(store) => store.into(),
            rejected => {
                tracing::debug!(reason = %rejected, "bearer token rejected");
                ApiError {
                    message: "the bearer token is invalid or expired".into(),
                    ..Self::unauthorized(r#"Bearer error="invalid_token""#)
                }
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = match rejection.status() {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            other => other,
        };
        Self::new(status, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(rejection.status(), rejection.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
