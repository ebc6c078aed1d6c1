//! Integration tests: one binary, one module per resource.

mod helpers;

mod clients;
mod clusters;
mod oauth;
mod restart;
mod sdk;
