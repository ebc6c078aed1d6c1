//! Path parameters of the console's pages: an id is decoded as axum's `Path` does, and one
//! that holds a NUL names nothing (nothing stored can hold one, and PostgreSQL fails any
//! query given one), so its page is the 404 of an unknown address, as the API refuses it
//! in `http::extract::ApiPath`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::page_not_found;
use crate::http::extract::parameter_with_nul;

pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if parameter_with_nul(parts, state).await.is_some() {
            return Err(page_not_found().await);
        }
        Ok(Path(value))
    }
}
