//! Figures for operators, in Prometheus' text format at `/metrics`: every
//! request counted and timed by route, the database pool's use, the
//! analysis queue's depth and failures, the webhook deliveries waiting or
//! given up, and the bytes uploaded.
//!
//! `/metrics` is served only when `DEBRIEF_METRICS_TOKEN` is set, and only
//! to a request bearing that token: the figures name routes and volumes an
//! outsider has no business reading. The counters are kept in memory by
//! `prometheus-client` (the Prometheus project's own Rust client); the
//! gauges are read from the pool and the tables when scraped.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::{
    error::{AppError, Result},
    state::AppState,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// The app's figures.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    upload_bytes: Counter,
    pool_connections: Family<StateLabels, Gauge>,
    pool_max: Gauge,
    analysis_queue: Gauge,
    analyses: Family<StateLabels, Gauge>,
    webhook_deliveries: Family<StateLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("debrief");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route and status", requests.clone());
        // 1 ms to about 33 s, doubling.
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route",
            latency.clone(),
        );
        let upload_bytes = Counter::default();
        registry.register("upload_bytes", "Bytes of evidence received in uploads", upload_bytes.clone());
        let pool_connections = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections, idle or in use",
            pool_connections.clone(),
        );
        let pool_max = Gauge::default();
        registry.register("db_pool_max_connections", "The pool's limit", pool_max.clone());
        let analysis_queue = Gauge::default();
        registry.register("analysis_queue_depth", "Analyses waiting in the queue", analysis_queue.clone());
        let analyses = Family::<StateLabels, Gauge>::default();
        registry.register(
            "artifacts_by_analysis_state",
            "Artifacts by their analysis' state",
            analyses.clone(),
        );
        let webhook_deliveries = Family::<StateLabels, Gauge>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries kept, by state (pending, delivered, failed)",
            webhook_deliveries.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            upload_bytes,
            pool_connections,
            pool_max,
            analysis_queue,
            analyses,
            webhook_deliveries,
        }
    }
}

impl Metrics {
    /// Counts bytes received in an upload.
    pub fn uploaded(&self, bytes: usize) {
        self.upload_bytes.inc_by(bytes as u64);
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.requests
            .get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status })
            .inc();
        self.latency.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }
}

/// Counts and times each request under its route's pattern (never its raw
/// path, which would make a series per incident).
pub async fn measure(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: the figures, for a request bearing the metrics token.
#[tracing::instrument(skip_all)]
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let Some(token) = &state.config.metrics_token else {
        return Err(AppError::NotFound);
    };
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(offered.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
        let mut refused =
            AppError::Unauthorized("/metrics needs the metrics token as a bearer token.".into())
                .into_response();
        refused.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Ok(refused);
    }
    read_gauges(&state).await?;
    let mut text = String::new();
    encode(&mut text, &state.metrics.registry)
        .map_err(|err| anyhow::anyhow!("encoding the metrics: {err}"))?;
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], text).into_response())
}

/// The gauges, read now: the pool, and the queues' tables.
async fn read_gauges(state: &AppState) -> Result<()> {
    let metrics = &state.metrics;
    let (size, idle) = (i64::from(state.pool.size()), i64::try_from(state.pool.num_idle()).unwrap_or(0));
    metrics.pool_connections.get_or_create(&StateLabels { state: "idle".into() }).set(idle);
    metrics.pool_connections.get_or_create(&StateLabels { state: "in_use".into() }).set(size - idle);
    metrics.pool_max.set(i64::from(state.pool.options().get_max_connections()));
    metrics.analysis_queue.set(crate::evidence::queue::depth(&state.pool).await?);
    // A state with no rows left reads 0, not its last count.
    for status in ["none", "pending", "done", "failed"] {
        metrics.analyses.get_or_create(&StateLabels { state: status.into() }).set(0);
    }
    for status in ["pending", "delivered", "failed"] {
        metrics.webhook_deliveries.get_or_create(&StateLabels { state: status.into() }).set(0);
    }
    let counts = |sql: &'static str| async move {
        let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(&state.pool).await?;
        Ok::<_, AppError>(rows)
    };
    for (status, count) in counts("select analysis_status, count(*) from artifact group by 1").await? {
        metrics.analyses.get_or_create(&StateLabels { state: status }).set(count);
    }
    for (status, count) in counts("select state, count(*) from webhook_delivery group by 1").await? {
        metrics.webhook_deliveries.get_or_create(&StateLabels { state: status }).set(count);
    }
    Ok(())
}
