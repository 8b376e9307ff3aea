//! Debrief: blameless postmortems for SRE teams, with their evidence.
//!
//! The binary is a thin shell around this library, so the tests build and
//! run exactly the app the binary runs.

pub mod accounts;
pub mod action_items;
pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod causes;
pub mod cli;
pub mod comments;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod error;
pub mod evidence;
pub mod export;
pub mod health;
pub mod history;
pub mod incidents;
pub mod insights;
pub mod metrics;
pub mod notify;
pub mod playbooks;
pub mod postmortem;
pub mod review;
pub mod search;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod timeline;
pub mod web;
pub mod wording;

/// Makes ring the process's TLS provider, as the database connection's is,
/// for every HTTPS client (the S3 artifact store's). Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
