//! A panic in a handler becomes a logged 500 page (or JSON error), never a
//! dropped connection or a dead worker.

use std::panic::AssertUnwindSafe;

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::FutureExt;

use crate::error::AppError;

pub async fn catch_panic(request: Request, next: Next) -> Response {
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            AppError::Internal(anyhow::anyhow!("handler panicked: {what}")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, http::StatusCode, middleware, routing::get};
    use tower::ServiceExt;

    use super::*;
    use crate::error::render_errors;

    async fn boom() -> &'static str {
        panic!("the handler fell over")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_pages_and_json() {
        let app = Router::new()
            .route("/boom", get(boom))
            .route("/api/v1/boom", get(boom))
            .layer(middleware::from_fn(catch_panic))
            .layer(middleware::from_fn(render_errors));

        let page = app.clone().oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let html = axum::body::to_bytes(page.into_body(), 1 << 20).await.unwrap();
        let html = String::from_utf8_lossy(&html);
        assert!(html.contains("Something went wrong on our side"), "{html}");
        assert!(!html.contains("fell over"), "internals must not reach the page");

        let api = app.oneshot(Request::get("/api/v1/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(api.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let json: serde_json::Value =
            serde_json::from_slice(&axum::body::to_bytes(api.into_body(), 1 << 20).await.unwrap()).unwrap();
        assert_eq!(json["error"]["code"], "internal");
    }
}
