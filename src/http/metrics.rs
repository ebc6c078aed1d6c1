//! `GET /monitoring/{clusterUuid}/metrics`: a cluster's metrics in the Prometheus text
//! format, for the monitoring clients of that cluster (HTTP Basic). Every refusal is the
//! same 401, so the endpoint does not reveal which clusters exist or have monitoring.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::in_cluster::ClusterPath;
use super::schema::tags;
use super::AppState;
use crate::domain::{metrics, Timestamp};

/// `lastUsed` is kept to this resolution, so a scrape every few seconds is not a write
/// every few seconds.
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(cluster_metrics))
}

fn unauthorized() -> ApiError {
    ApiError {
        www_authenticate: Some(r#"Basic realm="consoled metrics", charset="UTF-8""#),
        ..ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the credentials of a monitoring client of this cluster are required (HTTP Basic)",
        )
    }
}

/// `Authorization: Basic base64(username:password)` (RFC 7617: no further decoding).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (username, password) = decoded.split_once(':')?;
    // No username holds a NUL (they are letters, digits and `. _ - @ +`), and PostgreSQL
    // fails a lookup given one: such credentials are simply wrong.
    if username.contains('\0') {
        return None;
    }
    Some((username.to_string(), password.to_string()))
}

/// A cluster's metrics in the Prometheus text format, for the monitoring clients of that cluster (HTTP Basic).
///
/// Every refusal is the same 401.
#[utoipa::path(
    get,
    path = "/monitoring/{clusterUuid}/metrics",
    operation_id = "GetClusterMetrics",
    tag = tags::MONITORING,
    params(ClusterPath),
    security(("basic" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "Missing or wrong credentials of a monitoring client of this cluster",
            headers(("WWW-Authenticate" = String))),
    ),
)]
#[tracing::instrument(skip_all, fields(cluster = %cluster_id))]
async fn cluster_metrics(
    State(state): State<AppState>,
    ClusterPath(cluster_id): ClusterPath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (username, password) = basic_credentials(&headers).ok_or_else(unauthorized)?;
    let client = state
        .store
        .monitoring_credential(&cluster_id, &username)
        .await?;
    let Some(client) = client.filter(|c| state.keyring.verify_secret(&password, &c.password_hash))
    else {
        tracing::debug!("metrics request with unknown or wrong monitoring credentials");
        return Err(unauthorized());
    };
    let Some(cluster) = state.store.cluster(&client.org_id, &cluster_id).await? else {
        return Err(unauthorized());
    };
    let backups = state.store.backups(&client.org_id, &cluster_id).await?;
    let now = Timestamp::now();
    if let Err(e) = state
        .store
        .touch_monitoring_client(&client.id, now, LAST_USED_RESOLUTION)
        .await
    {
        // Serving the metrics matters more than recording that they were read.
        tracing::warn!(error = %e, "recording the use of a monitoring client failed");
    }
    let body = metrics::render(&cluster, &backups, &state.catalog, now);
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(metrics::CONTENT_TYPE),
    );
    Ok(response)
}

/// Property tests: scrapers send the Basic credentials.
#[cfg(test)]
mod properties {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn basic_credentials_round_trip_or_are_refused(
            user in "[^:]{0,20}",
            password in any::<String>(),
            raw in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let mut headers = HeaderMap::new();
            let encoded = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&encoded).unwrap());
            // A username with a NUL names no monitoring client.
            let expected = (!user.contains('\0')).then_some((user, password));
            prop_assert_eq!(basic_credentials(&headers), expected);
            if let Ok(value) = HeaderValue::from_bytes(&raw) {
                headers.insert(header::AUTHORIZATION, value);
                let _ = basic_credentials(&headers);
            }
        }
    }
}
