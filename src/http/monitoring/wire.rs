//! The wire types of the monitoring endpoints, and where a cluster's metrics are scraped.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::monitoring::MonitoringClient;
use crate::http::schema::EmptyObject;

/// A new monitoring client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateMonitoringClientBody, example = json!({"username": "prometheus"}))]
pub struct CreateMonitoringClientRequest {
    /// Letters, digits and `._-@+`; at most 64 characters; unique in the cluster.
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._@+-]+$")]
    pub username: String,
}

/// `MonitoringClient` of the SDK. `lastUsed` is the empty string until the metrics
/// endpoint first accepts the credential.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MonitoringClient)]
pub struct MonitoringClientDto {
    pub uuid: String,
    pub name: String,
    pub username: String,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339 (to the minute), or `""` if never used.
    pub last_used: String,
    /// The Console API client that created it.
    pub created_by: String,
    pub created_by_name: String,
}

/// `CreatedMonitoringClient`: the client with its password, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedMonitoringClient)]
pub struct CreatedMonitoringClientDto {
    #[serde(flatten)]
    pub client: MonitoringClientDto,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonitoringClientsResponse {
    pub clients: Vec<MonitoringClientDto>,
    /// `{}` while monitoring is not active.
    pub status: MonitoringStatusOrEmpty,
}

/// The monitoring status, or `{}` while monitoring is not active.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum MonitoringStatusOrEmpty {
    Active(MonitoringStatusDto),
    Inactive(EmptyObject),
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MonitoringStatus)]
pub struct MonitoringStatusDto {
    pub metrics_endpoint: MetricsEndpointDto,
    pub conditions: Vec<ConditionDto>,
}

/// Where to scrape, in the terms of a Prometheus `scrape_config`: `scheme`, one of
/// `targets`, `metrics_path`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MetricsEndpoint)]
pub struct MetricsEndpointDto {
    pub target: String,
    pub scheme: String,
    pub path: String,
}

/// A Kubernetes-style condition.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MonitoringCondition)]
pub struct ConditionDto {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub status: &'static str,
    pub reason: &'static str,
    pub message: &'static str,
    pub last_transition_time: String,
}

impl From<MonitoringClient> for MonitoringClientDto {
    fn from(c: MonitoringClient) -> Self {
        MonitoringClientDto {
            uuid: c.id,
            name: c.username.clone(),
            username: c.username,
            created: c.created_at.to_rfc3339(),
            last_used: c.last_used_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            created_by: c.created_by,
            created_by_name: c.created_by_name,
        }
    }
}

/// The metrics endpoint of a cluster under the public URL (which may carry a path prefix
/// when consoled runs behind a proxy).
pub fn metrics_endpoint(public_url: &str, cluster_id: &str) -> MetricsEndpointDto {
    let (scheme, rest) = public_url.split_once("://").unwrap_or(("http", public_url));
    let (target, prefix) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    MetricsEndpointDto {
        target: target.to_string(),
        scheme: scheme.to_string(),
        path: format!("{prefix}/monitoring/{cluster_id}/metrics"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_endpoint_follows_the_public_url() {
        let e = metrics_endpoint("http://127.0.0.1:8080", "c1");
        assert_eq!(
            (e.scheme.as_str(), e.target.as_str(), e.path.as_str()),
            ("http", "127.0.0.1:8080", "/monitoring/c1/metrics")
        );
        let e = metrics_endpoint("https://console.example.com/consoled/", "c1");
        assert_eq!(
            (e.scheme.as_str(), e.target.as_str(), e.path.as_str()),
            (
                "https",
                "console.example.com",
                "/consoled/monitoring/c1/metrics"
            )
        );
    }
}
