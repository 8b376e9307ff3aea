//! The versioned edit of a record that belongs to an incident (a timeline
//! event, a cause, an action item): found by its incident and its id in one
//! query, locked, checked against the version the edit was based on, saved,
//! and recorded as a revision, all in one transaction.

use std::future::Future;

use sqlx::PgConnection;
use uuid::Uuid;

use super::revision::{self, Change};
use crate::{
    auth::db::User,
    error::{AppError, Result, WriteError},
    state::AppState,
};

/// A record of an incident that is edited with its version.
pub trait Versioned: Sized + Send + Sync {
    /// What a change to it is filed under in a revision: `timeline`.
    const HISTORY_FIELD: &'static str;

    /// What the record's fields are saved from.
    type Fields: Sync;

    fn incident_id(&self) -> Uuid;
    fn version(&self) -> i32;

    /// The record as a revision's change shows it.
    fn history_text(&self) -> String;

    /// The record `id`, if it belongs to `incident` (any incident when
    /// `None`), locked until the transaction ends when `lock` is set.
    fn find(
        db: &mut PgConnection,
        incident: Option<Uuid>,
        id: Uuid,
        lock: bool,
    ) -> impl Future<Output = Result<Option<Self>>> + Send;

    /// Writes the fields, moves the version on and returns the saved record.
    fn save(
        db: &mut PgConnection,
        id: Uuid,
        fields: &Self::Fields,
    ) -> impl Future<Output = Result<Self>> + Send;

    fn delete(db: &mut PgConnection, id: Uuid) -> impl Future<Output = Result<()>> + Send;
}

/// The change a new record makes to the history.
pub fn added<T: Versioned>(record: &T) -> Change {
    Change { field: T::HISTORY_FIELD.into(), old: String::new(), new: record.history_text() }
}

/// The record `id` of `incident`, read without a lock: for its edit form.
pub async fn find<T: Versioned>(state: &AppState, incident: Uuid, id: Uuid) -> Result<T> {
    let mut db = state.pool.acquire().await?;
    T::find(&mut db, Some(incident), id, false).await?.ok_or(AppError::NotFound)
}

/// Saves `fields` on the record `id` (of `incident`, when given) if it is
/// still at `version`, and records the revision with the summary `describe`
/// gives of the record before and after. A save that changes nothing the
/// history shows records nothing.
pub async fn edit<T: Versioned>(
    state: &AppState,
    incident: Option<Uuid>,
    id: Uuid,
    version: i32,
    fields: &T::Fields,
    author: &User,
    describe: impl FnOnce(&T, &T) -> String + Send,
) -> std::result::Result<T, WriteError<T>> {
    let mut tx = state.pool.begin().await?;
    let current = T::find(&mut tx, incident, id, true).await?.ok_or(AppError::NotFound)?;
    if current.version() != version {
        return Err(WriteError::Stale(Box::new(current)));
    }
    let saved = T::save(&mut tx, id, fields).await?;
    let (old, new) = (current.history_text(), saved.history_text());
    if old != new {
        let summary = describe(&current, &saved);
        let change = Change { field: T::HISTORY_FIELD.into(), old, new };
        let incident_id = saved.incident_id();
        revision::record_part(&mut tx, &state.document, incident_id, author.id, &summary, &[change]).await?;
    }
    tx.commit().await?;
    Ok(saved)
}

/// Deletes the record `id` (of `incident`, when given) and records it.
pub async fn remove<T: Versioned>(
    state: &AppState,
    incident: Option<Uuid>,
    id: Uuid,
    author: &User,
    summary: &str,
) -> Result<T> {
    let mut tx = state.pool.begin().await?;
    let current = T::find(&mut tx, incident, id, true).await?.ok_or(AppError::NotFound)?;
    T::delete(&mut tx, id).await?;
    let change = Change { field: T::HISTORY_FIELD.into(), old: current.history_text(), new: String::new() };
    revision::record_part(&mut tx, &state.document, current.incident_id(), author.id, summary, &[change])
        .await?;
    tx.commit().await?;
    Ok(current)
}
