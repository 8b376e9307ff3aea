//! A bounded in-process copy of recently used sessions, in front of the
//! PostgreSQL session store, so that a page view does not cost a round trip
//! to read the session it just read a moment ago.
//!
//! Every write goes to PostgreSQL first and then here (write-through), so one
//! server process always reads what it wrote. A copy is trusted for
//! [`FRESH_FOR`] at most and never past the session's own expiry; after that
//! the session is read from PostgreSQL again. What must be fresh on every
//! request (a disabled account, a changed password or role) lives on the user
//! row, which is read again after a second at most (see `RecentUsers`).
//!
//! Several server processes behind one address each keep their own copies:
//! they need the balancer to keep a browser on one process, or a flash
//! message written by one may show late on another.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use super::recent::Recent;

/// How long a copy is used before the session is read again.
pub const FRESH_FOR: Duration = Duration::from_secs(60);

/// How many sessions are kept; past that the oldest copies are dropped.
pub const MAX_SESSIONS: usize = 10_000;

/// Cheap to clone: the clones share one set of copies.
#[derive(Debug, Clone)]
pub struct SessionCache {
    copies: Arc<Recent<Id, Record>>,
}

impl Default for SessionCache {
    fn default() -> SessionCache {
        SessionCache { copies: Arc::new(Recent::new(FRESH_FOR, MAX_SESSIONS)) }
    }
}

impl SessionCache {
    pub fn new() -> SessionCache {
        SessionCache::default()
    }

    /// How many copies are held (for tests).
    pub fn len(&self) -> usize {
        self.copies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.copies.is_empty()
    }
}

#[async_trait]
impl SessionStore for SessionCache {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.copies.keep(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.copies.keep(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.copies.get_if(id, |record| record.expiry_date > OffsetDateTime::now_utc()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.copies.forget(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn record(id: i128, expires_in: time::Duration) -> Record {
        Record { id: Id(id), data: HashMap::new(), expiry_date: OffsetDateTime::now_utc() + expires_in }
    }

    #[tokio::test]
    async fn a_saved_session_is_read_back_until_deleted() {
        let cache = SessionCache::new();
        let mut session = record(7, time::Duration::minutes(30));
        session.data.insert("user".into(), serde_json::json!("someone"));
        cache.save(&session).await.unwrap();

        let loaded = cache.load(&Id(7)).await.unwrap().expect("the copy");
        assert_eq!(loaded.data["user"], "someone");

        cache.delete(&Id(7)).await.unwrap();
        assert!(cache.load(&Id(7)).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_expired_session_is_not_served_from_the_copy() {
        let cache = SessionCache::new();
        cache.save(&record(8, time::Duration::seconds(-1))).await.unwrap();
        assert!(cache.load(&Id(8)).await.unwrap().is_none());
        assert!(cache.is_empty(), "the expired copy is dropped");
    }

    #[tokio::test]
    async fn the_cache_stays_bounded() {
        let cache = SessionCache::new();
        for id in 0..(MAX_SESSIONS as i128 + 10) {
            cache.save(&record(id, time::Duration::minutes(30))).await.unwrap();
        }
        assert!(cache.len() <= MAX_SESSIONS);
        let newest = MAX_SESSIONS as i128 + 9;
        assert!(cache.load(&Id(newest)).await.unwrap().is_some(), "the newest copy is kept");
    }
}
