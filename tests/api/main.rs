//! Integration tests: one binary, one module per resource.

mod helpers;

mod activity;
mod cli;
mod clients;
mod clusters;
mod isolation;
mod members;
mod meta;
mod oauth;
mod restart;
mod scopes;
mod sdk;
mod sdk_org;
