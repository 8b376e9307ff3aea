//! Building and running the app: the router with its layers, the HTTP
//! server with its timeouts, the background tasks it owns, and graceful
//! shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use sqlx::PgPool;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::{
    compression::{
        CompressionLayer,
        predicate::{DefaultPredicate, NotForContentType, Predicate},
    },
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tower_sessions::{CachingSessionStore, SessionManagerLayer, cookie::SameSite};
use tower_sessions_sqlx_store::PostgresStore;

use crate::{
    accounts, action_items, admin, api,
    auth::{self, credentials, domain::Role},
    causes,
    config::Config,
    dashboard,
    error::{AppError, keep_page_user, render_errors},
    evidence,
    evidence::{store::ArtifactStore, worker::Analyser},
    health, history, incidents,
    state::AppState,
    timeline,
    web::{
        self, assets, cpu::CpuPool, csrf, panic::catch_panic, require_role, session_cache::SessionCache,
        text_guard,
    },
};

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How often expired sessions and old login attempts are swept away.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// The app, bound to its port and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    setup_token: Option<String>,
    stop: CancellationToken,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the router.
    /// While no user exists, issues the one-time setup token and logs it.
    pub async fn build(config: Config, pool: PgPool) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let local = listener.local_addr()?;
        let origin = config.base_url.clone().unwrap_or_else(|| {
            let host =
                if local.ip().is_unspecified() { "localhost".to_owned() } else { local.ip().to_string() };
            format!("http://{host}:{}", local.port())
        });
        credentials::prepare();
        crate::install_tls_provider();
        let hashing = credentials::Hashing::new(config.hash_threads, config.hash_wait);
        let cpu = CpuPool::new(config.cpu_threads);
        let setup_token = issue_setup_token_if_needed(&pool, &origin).await?;
        let added =
            crate::playbooks::library::load(&pool).await.context("cannot load the starter playbooks")?;
        if added > 0 {
            tracing::info!(playbooks = added, "added the starter playbooks");
        }
        let store = ArtifactStore::open(&config.storage, &config.data_dir.join("spool"))
            .context("cannot open the artifact store")?;
        let cleared = store.clear_spool().await.context("cannot clear the upload spool")?;
        if cleared > 0 {
            tracing::info!(files = cleared, "removed uploads left unfinished by the last run");
        }
        let analyser = Analyser {
            pool: pool.clone(),
            store,
            max_bytes: config.max_analysis_bytes,
            timeout: config.analysis_timeout,
            lease: config.analysis_lease,
            name: worker_name().into(),
            wake: Arc::default(),
        };
        let artifact_reads = Arc::new(tokio::sync::Semaphore::new(config.cpu_threads.max(2)));
        let webhooks = crate::notify::deliver::Deliverer::new(pool.clone(), &config);
        let state = AppState {
            artifact_reads,
            webhooks,
            metrics: Arc::default(),
            bulk_exports: crate::export::archive::turns(),
            pool,
            config: Arc::new(config),
            document: crate::postmortem::document(&origin),
            origin: origin.into(),
            pages: Arc::default(),
            insights: Arc::default(),
            list_places: Arc::default(),
            users: Arc::default(),
            hashing,
            cpu,
            analyser,
        };
        let router = router(state.clone());
        Ok(Application { listener, router, state, setup_token, stop: CancellationToken::new() })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|addr| addr.port()).unwrap_or_default()
    }

    /// The setup token issued at start, while no user exists yet.
    pub fn setup_token(&self) -> Option<&str> {
        self.setup_token.as_deref()
    }

    /// A handle that stops the app as a signal would.
    pub fn stop_handle(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Serves until SIGTERM, Ctrl-C or the stop handle, then lets in-flight
    /// requests finish (within the grace period) and ends its own tasks.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application { listener, router, state, stop, .. } = self;
        tracing::info!(address = %listener.local_addr()?, origin = %state.origin, "Debrief is listening");

        let mut tasks = JoinSet::new();
        tasks.spawn(sweep_forever(state.pool.clone(), state.origin.clone(), stop.clone()));
        let audit_retention = state.config.audit_retention_days;
        tasks.spawn(crate::audit::prune_forever(state.pool.clone(), audit_retention, stop.clone()));
        if state.config.analysis_worker {
            tasks.spawn(state.analyser.clone().run_until_stopped(stop.clone()));
        }
        tasks.spawn(state.webhooks.clone().run_until_stopped(stop.clone()));
        tasks.spawn({
            let stop = stop.clone();
            async move {
                tokio::select! {
                    _ = shutdown_signal() => stop.cancel(),
                    _ = stop.cancelled() => {}
                }
            }
        });

        serve(listener, router, stop.clone(), state.config.shutdown_grace).await;

        stop.cancel();
        while tasks.join_next().await.is_some() {}
        state.pool.close().await;
        tracing::info!("Debrief has stopped");
        Ok(())
    }
}

/// The whole router: pages behind sessions and CSRF, the API behind bearer
/// tokens, probes and assets open, and the common layers around all.
pub fn router(state: AppState) -> Router {
    let config = &state.config;
    let request_id = HeaderName::from_static("x-request-id");
    let request_timeout = config.request_timeout;
    let upload_timeout = config.upload_timeout;
    let max_body_bytes = config.max_body_bytes;
    let hsts = config.secure_cookies.then(|| HeaderValue::from_static("max-age=31536000"));
    let store = CachingSessionStore::new(SessionCache::new(), PostgresStore::new(state.pool.clone()));
    let sessions = SessionManagerLayer::new(store)
        .with_name(web::session::COOKIE_NAME)
        .with_secure(config.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(web::session::expiry(config.session_idle));

    let signed_in = Router::new()
        .merge(dashboard::router())
        .merge(auth::signed_in_router())
        .merge(accounts::router())
        .route("/api-docs", get(api::docs::show_api_docs))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let admin = admin::router().route_layer(middleware::from_fn_with_state(Role::Admin, require_role));
    let pages = Router::new()
        .merge(auth::public_router())
        .merge(signed_in)
        .merge(incidents::router())
        .merge(crate::search::router())
        .merge(crate::insights::router())
        .merge(crate::export::router())
        .merge(crate::audit::router())
        .merge(history::router())
        .merge(timeline::router())
        .merge(causes::router())
        .merge(action_items::router())
        .merge(crate::playbooks::router())
        .merge(crate::wording::router())
        .merge(crate::notify::router())
        .merge(crate::review::router())
        .merge(crate::comments::router())
        .merge(evidence::router(&state))
        .merge(admin)
        // Outermost first: the session, then who is signed in (kept for
        // error pages), then CSRF, then text the database could not store.
        .layer(
            ServiceBuilder::new()
                .layer(sessions)
                .layer(middleware::from_fn_with_state(state.clone(), auth::signed_in::load_current_user))
                .layer(middleware::from_fn_with_state(state.clone(), crate::notify::count_unread))
                .layer(middleware::from_fn(keep_page_user))
                .layer(middleware::from_fn_with_state(state.clone(), csrf::verify_csrf))
                .layer(middleware::from_fn_with_state(max_body_bytes, text_guard::refuse_nul)),
        );

    Router::new()
        .merge(pages)
        .nest("/api/v1", api::router(state.clone()))
        // The contract, for tools: readable without a token.
        .route("/api/v1/openapi.json", get(api::openapi::show_openapi))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::serve))
        .route("/static/{*path}", get(assets::serve_asset))
        .fallback(|| async { AppError::NotFound })
        .layer(
            // Outermost first.
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn_with_state(state.clone(), crate::metrics::measure))
                .layer(set("content-security-policy", CSP))
                .layer(set("x-content-type-options", "nosniff"))
                .layer(set("x-frame-options", "DENY"))
                .layer(set("referrer-policy", "same-origin"))
                .layer(set("cross-origin-opener-policy", "same-origin"))
                .layer(set("permissions-policy", "camera=(), microphone=(), geolocation=()"))
                // Pages show private data: no shared caches, no back-button copies.
                .layer(set("cache-control", "no-store"))
                .layer(SetResponseHeaderLayer::if_not_present(header::STRICT_TRANSPORT_SECURITY, hsts))
                // Downloads go out as stored: compressing a large artifact on
                // the fly would be CPU on the request path for no reader's gain,
                // and a zip is compressed already.
                .layer(
                    CompressionLayer::new().compress_when(
                        DefaultPredicate::new()
                            .and(NotForContentType::const_new("application/octet-stream"))
                            .and(NotForContentType::const_new("application/zip")),
                    ),
                )
                .layer(middleware::from_fn(render_errors))
                .layer(middleware::from_fn(catch_panic))
                .layer(middleware::from_fn_with_state((request_timeout, upload_timeout), time_limit))
                .layer(DefaultBodyLimit::max(max_body_bytes)),
        )
        .with_state(state)
}

/// This process, as the analysis jobs it leases name it.
fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    format!("{}-{}-{}", host.trim(), std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Every request is answered within its time limit, or gets 503: an upload
/// within the upload's, every other request within the common one.
async fn time_limit(
    State((common, upload)): State<(Duration, Duration)>,
    request: Request,
    next: middleware::Next,
) -> Response {
    let limit = if evidence::is_upload(request.method(), request.uri().path()) { upload } else { common };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// No inline script or style, nothing from elsewhere, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

fn set(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
}

/// The span of one request: method, matched route and request id. Never
/// the query string or headers, which may carry secrets.
fn request_span(request: &Request) -> tracing::Span {
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned();
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = route.as_deref().unwrap_or("(unmatched)"),
        request_id = %request_id,
    )
}

/// Accepts connections until `stop`, each served by hyper with a header
/// read timeout; then lets open requests finish within `grace`.
async fn serve(listener: TcpListener, router: Router, stop: CancellationToken, grace: Duration) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: back off, go on.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = stop.cancelled() => break,
        };
        let service = router.clone().map_request(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            request
        });
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(open_connections = connections.len(), "shutting down: finishing requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => {
            tracing::warn!("grace period over; closing the remaining connections");
        }
    }
    connections.shutdown().await;
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C received"),
        _ = terminate => tracing::info!("SIGTERM received"),
    }
}

/// Deletes expired sessions and forgotten login attempts now and then,
/// until stopped. A failure (database away) is logged and retried later.
async fn sweep_forever(pool: PgPool, origin: Arc<str>, stop: CancellationToken) {
    use tower_sessions::ExpiredDeletion;
    let store = PostgresStore::new(pool.clone());
    loop {
        if let Err(err) = store.delete_expired().await {
            tracing::warn!(error = %err, "could not delete expired sessions");
        }
        if let Err(err) = auth::db::purge_login_attempts(&pool).await {
            tracing::warn!(error = %err, "could not purge old login attempts");
        }
        let today = time::OffsetDateTime::now_utc().date();
        match crate::notify::overdue::notice(&pool, &origin, today).await {
            Ok(0) => {}
            Ok(noticed) => tracing::info!(items = noticed, "told owners of overdue action items"),
            Err(err) => tracing::warn!(error = %err, "could not notice overdue action items"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// While nobody has an account, anyone reaching the app could make
/// themselves admin: `/setup` asks for a token only the operator sees, in
/// the log of this start.
async fn issue_setup_token_if_needed(pool: &PgPool, origin: &str) -> anyhow::Result<Option<String>> {
    if auth::db::count_users(pool).await? > 0 {
        return Ok(None);
    }
    let token = crate::web::secret::random_secret(24);
    auth::db::insert_setup_token(pool, &credentials::token_digest(&token)).await?;
    tracing::warn!(
        "No account exists yet. Open {origin}/setup and enter this one-time setup token to create the \
         first admin: {token}"
    );
    Ok(Some(token))
}
