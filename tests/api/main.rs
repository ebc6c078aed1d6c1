//! Integration tests: one binary, one module per resource.

mod helpers;
#[path = "../common/postgres.rs"]
mod postgres;

mod clients;
mod clusters;
mod oauth;
mod ops_support;
mod outage;
mod replicas;
mod restart;
mod sdk;

mod cluster_update;
mod integrity;
mod ip_allowlist;
mod secrets;
