//! Integration tests: one binary, one module per resource.

mod fixtures;
mod helpers;

mod backups;
mod clients;
mod clusters;
mod lifecycle;
mod monitoring;
mod oauth;
mod reconciler;
mod restart;
mod sdk;
mod secure_connectivity;
