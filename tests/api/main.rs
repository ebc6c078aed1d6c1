//! Integration tests: one binary, one module per resource.

mod helpers;
#[path = "../common/postgres.rs"]
mod postgres;

mod clients;
mod clusters;
mod oauth;
mod outage;
mod replicas;
mod restart;
mod sdk;
