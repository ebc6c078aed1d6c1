//! Integration tests: one binary, one module per resource.

mod helpers;
#[path = "../common/postgres.rs"]
mod postgres;
mod process;

mod activity;
mod backups;
mod cli;
mod clients;
mod clusters;
mod console;
mod console_activity;
mod console_api_clients;
mod console_cluster_resources;
mod console_clusters;
mod console_members;
mod console_sso;
mod docs_page;
mod driver_examples;
mod exec_driver;
mod flood;
mod headers;
mod isolation;
mod lifecycle;
mod logs;
mod members;
mod meta;
mod migrate;
mod monitoring;
mod oauth;
mod openapi;
mod outage;
mod rate_limits;
mod reconciler;
mod reference;
mod replica_caches;
mod replicas;
mod resource_limits;
mod restart;
mod routes;
mod scopes;
mod sdk;
mod sdk_org;

mod cluster_update;
mod integrity;
mod ip_allowlist;
mod secrecy;
mod secrets;
mod secure_connectivity;
mod settings;
mod shared_limits;
mod sso;
mod stored_text;
mod tls;
mod token_attacks;
