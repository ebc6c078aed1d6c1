//! consoled: a self-hostable implementation of the Camunda 8 Console (Management) API.
//!
//! Layers, from the outside in:
//! - [`http`]: routing, extractors, error mapping; one file per resource.
//! - [`auth`]: the OAuth token issuer and bearer-token verification.
//! - [`domain`]: the API's entities and rules, free of HTTP; time is passed in.
//! - [`storage`]: one [`storage::Store`] interface with a SQLite implementation.
//! - [`reconciler`]: background lifecycle work driven through provisioning drivers.

pub mod app;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod cluster_admin;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod operator;
pub mod reconciler;
pub mod serve;
pub mod storage;
