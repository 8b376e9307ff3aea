//! Text PostgreSQL cannot store: the NUL character. Every query parameter,
//! form field and JSON string is checked here, in one place before any
//! handler, and a request carrying one is refused with 422 naming the field,
//! rather than failing deep down in a query.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
};
use serde_json::Value;

use super::form::read_body;
use crate::error::{AppError, Result};

pub async fn refuse_nul(State(limit): State<usize>, request: Request, next: Next) -> Result<Response> {
    if let Some(field) = request.uri().query().and_then(|query| nul_in_form(query.as_bytes())) {
        return Err(refusal(&field));
    }
    let kind = BodyKind::of(request.headers());
    if kind == BodyKind::Other {
        return Ok(next.run(request).await);
    }
    let (parts, body) = request.into_parts();
    let bytes = read_body(body, &parts.headers, limit).await?;
    let field = match kind {
        BodyKind::Form => nul_in_form(&bytes),
        BodyKind::Json => nul_in_json(&bytes),
        BodyKind::Other => None,
    };
    if let Some(field) = field {
        return Err(refusal(&field));
    }
    Ok(next.run(Request::from_parts(parts, Body::from(bytes))).await)
}

fn refusal(field: &str) -> AppError {
    AppError::Unprocessable(format!(
        "{field}: text cannot contain a NUL character (\\0); remove it and send again."
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Form,
    Json,
    /// Nothing to check, or a body that must not be read whole here (an upload).
    Other,
}

impl BodyKind {
    fn of(headers: &HeaderMap) -> BodyKind {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/x-www-form-urlencoded" => BodyKind::Form,
            "application/json" => BodyKind::Json,
            other if other.starts_with("application/") && other.ends_with("+json") => BodyKind::Json,
            _ => BodyKind::Other,
        }
    }
}

/// The name of the first urlencoded field whose name or value holds a NUL.
fn nul_in_form(raw: &[u8]) -> Option<String> {
    // Cheap test first: a NUL arrives as `%00` or as the byte itself.
    if !raw.contains(&0) && !raw.windows(3).any(|w| w == b"%00") {
        return None;
    }
    form_urlencoded::parse(raw)
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| printable(&name))
}

/// The path (`timeline[2].body`) of the first JSON string or key holding a
/// NUL. A body that is not JSON passes: its own extractor says why.
fn nul_in_json(raw: &[u8]) -> Option<String> {
    // In JSON text a NUL can only be written as the escape `\u0000`.
    if !raw.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return None;
    }
    let value: Value = serde_json::from_slice(raw).ok()?;
    path_to_nul(&value, "")
}

fn path_to_nul(value: &Value, at: &str) -> Option<String> {
    let here = || if at.is_empty() { "body".to_owned() } else { at.to_owned() };
    match value {
        Value::String(text) => text.contains('\0').then(here),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| path_to_nul(item, &format!("{}[{index}]", here()))),
        Value::Object(fields) => fields.iter().find_map(|(name, field)| {
            let path = if at.is_empty() { printable(name) } else { format!("{at}.{}", printable(name)) };
            if name.contains('\0') { Some(path) } else { path_to_nul(field, &path) }
        }),
        _ => None,
    }
}

/// A field name fit for a message: NULs shown as `\0`, and not too long.
fn printable(name: &str) -> String {
    let shown: String = name.chars().take(80).collect::<String>().replace('\0', "\\0");
    if shown.is_empty() { "(a field without a name)".to_owned() } else { shown }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_name_the_field_with_a_nul() {
        assert_eq!(nul_in_form(b"email=a%00b&password=x").as_deref(), Some("email"));
        assert_eq!(nul_in_form(b"a=1&note=x\0y").as_deref(), Some("note"));
        assert_eq!(nul_in_form(b"na%00me=x").as_deref(), Some("na\\0me"));
        assert_eq!(nul_in_form(b"email=a%2500b&password=x"), None, "%25 is a percent sign, not a NUL");
        assert_eq!(nul_in_form(b"email=ab"), None);
    }

    #[test]
    fn json_names_the_path_to_the_nul() {
        assert_eq!(nul_in_json(br#"{"title":"a\u0000b"}"#).as_deref(), Some("title"));
        assert_eq!(nul_in_json(br#"{"x":{"whys":["ok","b\u0000"]}}"#).as_deref(), Some("x.whys[1]"));
        assert_eq!(nul_in_json(br#"["\u0000"]"#).as_deref(), Some("body[0]"));
        assert_eq!(nul_in_json(br#"{"title":"a\\u0000b"}"#), None, "an escaped backslash, then text");
        assert_eq!(nul_in_json(br#"{"title":"plain"}"#), None);
        assert_eq!(nul_in_json(b"not json \\u0000"), None);
    }

    #[test]
    fn only_forms_and_json_are_read() {
        let headers = |ct: &'static str| {
            let mut map = HeaderMap::new();
            map.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            map
        };
        assert_eq!(BodyKind::of(&headers("application/x-www-form-urlencoded")), BodyKind::Form);
        assert_eq!(BodyKind::of(&headers("Application/JSON; charset=utf-8")), BodyKind::Json);
        assert_eq!(BodyKind::of(&headers("application/merge-patch+json")), BodyKind::Json);
        assert_eq!(BodyKind::of(&headers("multipart/form-data; boundary=x")), BodyKind::Other);
        assert_eq!(BodyKind::of(&HeaderMap::new()), BodyKind::Other);
    }
}
