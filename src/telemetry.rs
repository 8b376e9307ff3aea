//! Logging: a `tracing` subscriber writing text or JSON lines to stderr.
//! What is logged never includes passwords, tokens, session ids or query
//! strings: requests are logged by method, matched route and request id.

use std::io::IsTerminal;

use tokio::task::JoinHandle;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// The filter when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_sessions=warn,tower_sessions_core=warn";

/// Installs the global subscriber; call once, first thing in `main`.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Json => registry.with(fmt::layer().json().with_writer(std::io::stderr)).init(),
        LogFormat::Text => {
            let ansi = std::io::stderr().is_terminal();
            registry.with(fmt::layer().with_ansi(ansi).with_writer(std::io::stderr)).init()
        }
    }
}

/// `spawn_blocking` that keeps the caller's span, so CPU work (argon2,
/// parsing) is logged under the request that asked for it.
pub fn spawn_blocking_with_tracing<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
}
