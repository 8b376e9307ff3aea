//! The incident list, paged newest first, at any depth and any size.
//!
//! A page deep in the list used to skip every row before it (`offset`), and
//! count every row for the total. The total now comes from a counter the
//! database keeps, and the place of every [`STRIDE`]th incident in the
//! order is kept here, so a page is read from the nearest of those places,
//! skipping fewer than [`STRIDE`] rows. The places are found again, as deep
//! as a request needs them, whenever the order's version (also kept by the
//! database) has moved: an incident added, removed or moved in time.

use time::OffsetDateTime;
use tokio::sync::Mutex;

use super::db::{self, IncidentListing};
use crate::error::Result;
use sqlx::PgPool;

/// One place is kept for every this many incidents.
pub const STRIDE: i64 = 1000;

/// A place in the list: its sort key, the start and the number.
pub type Key = (OffsetDateTime, i32);

#[derive(Default)]
pub struct ListPlaces {
    kept: Mutex<Option<Places>>,
}

struct Places {
    order_version: i64,
    /// `keys[k]` is the key of the incident at position `k * STRIDE`.
    keys: Vec<Key>,
}

/// One page of the list and the number of incidents in all.
pub struct ListPage {
    pub incidents: Vec<IncidentListing>,
    pub total: i64,
}

impl ListPlaces {
    /// The `limit` incidents from position `offset` on, newest first.
    pub async fn page(&self, pool: &PgPool, limit: i64, offset: i64) -> Result<ListPage> {
        let place = offset / STRIDE;
        let skip = offset % STRIDE;
        // First with what is kept: one round trip, unless the order moved.
        let kept = if place == 0 { Some((None, None)) } else { self.kept(place).await };
        if let Some((version, key)) = kept {
            let rows = db::list_from(pool, key, limit, skip).await?;
            if let Some((total, order_version)) = rows.counts
                && version.is_none_or(|version| version == order_version)
            {
                return Ok(ListPage { incidents: rows.incidents, total });
            }
        }
        let (total, order_version) = db::list_counts(pool).await?;
        if offset >= total {
            return Ok(ListPage { incidents: Vec::new(), total });
        }
        let key = match place {
            0 => None,
            _ => match self.key(pool, order_version, place).await? {
                Some(key) => Some(key),
                // The list shrank since it was counted.
                None => return Ok(ListPage { incidents: Vec::new(), total }),
            },
        };
        let rows = db::list_from(pool, key, limit, skip).await?;
        Ok(ListPage { incidents: rows.incidents, total })
    }

    /// The kept key at position `place * STRIDE`, and the order's version
    /// it was found at.
    async fn kept(&self, place: i64) -> Option<(Option<i64>, Option<Key>)> {
        let kept = self.kept.lock().await;
        let places = kept.as_ref()?;
        let key = places.keys.get(usize::try_from(place).ok()?)?;
        Some((Some(places.order_version), Some(*key)))
    }

    /// The key at position `place * STRIDE`, finding the places again when
    /// the order moved or they are not known that deep. One request finds
    /// them while the others wait, rather than all finding them together.
    async fn key(&self, pool: &PgPool, order_version: i64, place: i64) -> Result<Option<Key>> {
        let mut kept = self.kept.lock().await;
        let index = usize::try_from(place).unwrap_or(usize::MAX);
        let known = kept.as_ref().is_some_and(|p| p.order_version == order_version && p.keys.len() > index);
        if !known {
            // Twice as deep as asked, so that paging on costs no new search.
            let keys = db::list_keys_every(pool, STRIDE, (place + 1) * 2).await?;
            *kept = Some(Places { order_version, keys });
        }
        Ok(kept.as_ref().and_then(|places| places.keys.get(index).copied()))
    }
}
