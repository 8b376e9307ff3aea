//! The dashboard: the first page after signing in.

pub mod db;
pub mod handlers;
pub mod views;

use axum::{Router, routing::get};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(handlers::show_dashboard))
}
