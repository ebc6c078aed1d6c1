//! The API's entities and rules. Nothing here knows about HTTP or SQL; time is passed in.

pub mod api_client;
pub mod audit;
pub mod backup;
pub mod cluster;
pub mod cluster_update;
pub mod connector_secret;
pub mod error;
pub mod ip_allowlist;
pub mod lifecycle;
pub mod member;
pub mod metrics;
pub mod monitoring;
pub mod organization;
pub mod scope;
pub mod secure_connectivity;
pub mod text;
pub mod time;
pub mod zeebe_client;

pub use error::DomainError;
pub use time::Timestamp;
