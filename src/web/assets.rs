//! Static assets, compiled into the binary so the app serves them wherever
//! it runs: no CDN and no files to lose beside the executable.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use crate::error::AppError;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "css/app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/css/app.css"),
    },
    Asset {
        path: "js/app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/js/app.js"),
    },
    Asset {
        path: "js/wording.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/js/wording.js"),
    },
    Asset {
        path: "js/flame.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/js/flame.js"),
    },
    Asset {
        path: "img/favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../static/img/favicon.svg"),
    },
];

/// One strong ETag per asset, computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.bytes);
            let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
            format!("\"{hex}\"")
        })
        .collect()
});

/// `GET /static/{*path}`
pub async fn serve_asset(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, AppError> {
    let index = ASSETS.iter().position(|asset| asset.path == path).ok_or(AppError::NotFound)?;
    let asset = &ASSETS[index];
    let etag = &ETAGS[index];
    let cache = [(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"))];
    let etag_header = (header::ETAG, HeaderValue::from_str(etag).map_err(anyhow::Error::from)?);
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        return Ok((StatusCode::NOT_MODIFIED, cache, [etag_header]).into_response());
    }
    let content_type = (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    Ok((cache, [etag_header, content_type], asset.bytes).into_response())
}
