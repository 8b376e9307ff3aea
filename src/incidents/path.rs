//! The incident a path names: `INC-42` or `42` on pages; on the API also
//! its UUID.

use axum::{extract::FromRequestParts, http::request::Parts};
use uuid::Uuid;

use super::db::{self, Incident};
use crate::{
    error::AppError,
    state::AppState,
    web::path::{is_api, param, shorten},
};

/// How an incident is named: its UUID, or its number (`INC-15`, `15`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentRef {
    Id(Uuid),
    Number(i32),
}

impl IncidentRef {
    pub fn parse(raw: &str) -> Option<IncidentRef> {
        let raw = raw.trim();
        let number = raw.strip_prefix("INC-").or_else(|| raw.strip_prefix("inc-")).unwrap_or(raw);
        if let Ok(number) = number.parse::<i32>() {
            return (number > 0).then_some(IncidentRef::Number(number));
        }
        Uuid::parse_str(raw).ok().map(IncidentRef::Id)
    }

    pub async fn find(self, state: &AppState) -> Result<Option<Incident>, AppError> {
        match self {
            IncidentRef::Id(id) => db::find_incident(&state.pool, id).await,
            IncidentRef::Number(number) => db::find_incident_by_number(&state.pool, number).await,
        }
    }
}

/// The incident named by the path's `{reference}` (pages) or `{id}` (the
/// API). A name that cannot be read is a 404 on a page and a 400 with our
/// own message on the API; an incident that does not exist is a 404.
pub struct IncidentPath(pub Incident);

impl FromRequestParts<AppState> for IncidentPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let api = is_api(parts);
        let raw = param(parts, state, if api { "id" } else { "reference" }).await?;
        let reference = match IncidentRef::parse(&raw) {
            Some(IncidentRef::Id(_)) if !api => return Err(AppError::NotFound),
            Some(reference) => reference,
            None if api => {
                return Err(AppError::BadRequest(format!(
                    "“{}” does not name an incident: use its id, INC-<number> or the number alone.",
                    shorten(&raw)
                )));
            }
            None => return Err(AppError::NotFound),
        };
        reference.find(state).await?.map(IncidentPath).ok_or(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incidents_are_named_by_number_or_id() {
        assert_eq!(IncidentRef::parse("INC-15"), Some(IncidentRef::Number(15)));
        assert_eq!(IncidentRef::parse("15"), Some(IncidentRef::Number(15)));
        assert_eq!(IncidentRef::parse("INC-0"), None);
        assert_eq!(IncidentRef::parse("INC-x"), None);
        let id = Uuid::now_v7();
        assert_eq!(IncidentRef::parse(&id.to_string()), Some(IncidentRef::Id(id)));
        assert_eq!(IncidentRef::parse("not-a-uuid"), None);
    }
}
