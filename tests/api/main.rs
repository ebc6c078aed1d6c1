//! Integration tests: one binary, one module per resource.

mod helpers;
#[path = "../common/postgres.rs"]
mod postgres;

mod activity;
mod cli;
mod clients;
mod clusters;
mod isolation;
mod members;
mod meta;
mod oauth;
mod ops_support;
mod outage;
mod replicas;
mod restart;
mod scopes;
mod sdk;
mod sdk_org;

mod cluster_update;
mod integrity;
mod ip_allowlist;
mod secrets;
