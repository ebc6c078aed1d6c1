//! consoled: a self-hostable implementation of the Camunda 8 Console (Management) API.
//!
//! Layers, from the outside in:
//! - [`cli`]: the `consoled` commands, their flags and their printing; [`config`] holds
//!   the server's settings.
//! - [`app`]: assembling and running the server.
//! - [`operator`]: the actions of the operator commands and the first-start bootstrap.
//! - [`installation`]: opening the database, master key and signing keys.
//! - [`http`]: routing, extractors, error mapping; one file per resource.
//! - [`console`]: the web console's pages under `/console`, one file per page.
//! - [`auth`]: the OAuth token issuer and bearer-token verification.
//! - [`domain`]: the API's entities and rules, free of HTTP; time is passed in.
//! - [`storage`]: one [`storage::Store`] interface with a SQLite implementation.
//! - [`reconciler`]: background lifecycle work driven through provisioning drivers.

pub mod app;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod console;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod installation;
pub mod operator;
pub mod reconciler;
pub mod serve;
pub mod storage;
pub mod telemetry;
