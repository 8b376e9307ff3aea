//! Rendered incident pages, reused while nothing they show has changed.
//!
//! A postmortem is read far more often than it is written: in the review
//! meeting, everyone opens the same page at once. Rendering it means six
//! queries and a template over every timeline event, so the page each reader
//! last saw is kept, with the [`PageStamp`] it was rendered at. The stamp is
//! read with the incident itself, in the one query the page needs anyway, and
//! a kept page is served only while the stamp is unchanged. The stamp is kept
//! by database triggers, so a change made by any writer, in this process or
//! another, retires the page.
//!
//! When a change retires a page that many requests want at once, one of
//! them renders it while the others wait their [`PageCache::turn`] and then
//! find it kept, rather than all rendering it together.
//!
//! A page is kept per reader, since the role, the time zone and the date
//! change what it shows. The reader's CSRF token is never kept: the page is
//! rendered with a random marker in its place, and each reader's own token is
//! put back in when it is served.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use uuid::Uuid;

use super::db::PageStamp;
use crate::web::secret::random_secret;

/// All kept pages together stay under this many bytes.
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// A page larger than this is rendered every time rather than kept.
const MAX_PAGE_BYTES: usize = MAX_BYTES / 16;

/// Which page, for whom: everything the page depends on besides the stamp.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub incident: Uuid,
    pub reader: Uuid,
    pub path: String,
    /// Today in the reader's zone: overdue action items are marked by it.
    pub today: time::Date,
    /// What the reader is editing (`all`, a part's key), or empty.
    pub editing: String,
    /// The reader's unread notifications, counted in the header.
    pub unread: i64,
}

pub struct PageCache {
    marker: String,
    kept: Mutex<Kept>,
    /// A lock per page being rendered, while anyone holds or awaits it.
    rendering: Mutex<HashMap<PageKey, Arc<tokio::sync::Mutex<()>>>>,
}

/// The right to render one page; others wanting it wait until it is dropped.
pub struct Turn<'a> {
    cache: &'a PageCache,
    key: PageKey,
    lock: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let Ok(mut rendering) = self.cache.rendering.lock() else { return };
        drop(self.lock.take());
        // Only the map holds the lock now: nobody is waiting for this page.
        if rendering.get(&self.key).is_some_and(|lock| Arc::strong_count(lock) == 1) {
            rendering.remove(&self.key);
        }
    }
}

#[derive(Default)]
struct Kept {
    pages: HashMap<PageKey, KeptPage>,
    bytes: usize,
}

struct KeptPage {
    stamp: PageStamp,
    /// The page cut at each place the reader's CSRF token goes.
    pieces: Arc<Vec<String>>,
    bytes: usize,
    used: Instant,
}

impl Default for PageCache {
    fn default() -> PageCache {
        PageCache::new()
    }
}

impl PageCache {
    pub fn new() -> PageCache {
        PageCache {
            marker: format!("csrf-{}", random_secret(24)),
            kept: Mutex::default(),
            rendering: Mutex::default(),
        }
    }

    /// What to render in place of the CSRF token when the page is to be kept.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// The kept page, with `csrf` put in, if it was rendered at `stamp`.
    pub fn get(&self, key: &PageKey, stamp: PageStamp, csrf: &str) -> Option<String> {
        let pieces = {
            let mut kept = self.kept.lock().ok()?;
            let page = kept.pages.get_mut(key).filter(|page| page.stamp == stamp)?;
            page.used = Instant::now();
            Arc::clone(&page.pieces)
        };
        Some(pieces.join(csrf))
    }

    /// Waits until no other request is rendering this page; look again with
    /// [`PageCache::get`] before rendering it.
    pub async fn turn(&self, key: &PageKey) -> Turn<'_> {
        let lock = {
            let mut rendering = self.rendering.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(rendering.entry(key.clone()).or_default())
        };
        let lock = lock.lock_owned().await;
        Turn { cache: self, key: key.clone(), lock: Some(lock) }
    }

    /// Keeps `rendered` (made with [`PageCache::marker`] as its CSRF token)
    /// and returns it with `csrf` put in.
    pub fn keep(&self, key: PageKey, stamp: PageStamp, rendered: &str, csrf: &str) -> String {
        let pieces: Vec<String> = rendered.split(self.marker.as_str()).map(str::to_owned).collect();
        let page = pieces.join(csrf);
        let bytes = rendered.len();
        if bytes <= MAX_PAGE_BYTES
            && let Ok(mut kept) = self.kept.lock()
        {
            if let Some(old) = kept.pages.remove(&key) {
                kept.bytes -= old.bytes;
            }
            if kept.bytes + bytes > MAX_BYTES {
                kept.drop_older_half();
            }
            kept.bytes += bytes;
            let used = Instant::now();
            kept.pages.insert(key, KeptPage { stamp, pieces: Arc::new(pieces), bytes, used });
        }
        page
    }

    /// How many pages are kept (for tests).
    pub fn len(&self) -> usize {
        self.kept.lock().map(|kept| kept.pages.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Kept {
    fn drop_older_half(&mut self) {
        let mut uses: Vec<Instant> = self.pages.values().map(|page| page.used).collect();
        if uses.is_empty() {
            return;
        }
        let middle = uses.len() / 2;
        let (_, median, _) = uses.select_nth_unstable(middle);
        let median = *median;
        self.pages.retain(|_, page| page.used > median);
        self.bytes = self.pages.values().map(|page| page.bytes).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(reader: u128) -> PageKey {
        PageKey {
            incident: Uuid::from_u128(1),
            reader: Uuid::from_u128(reader),
            path: "/incidents/INC-1".into(),
            today: time::macros::date!(2026 - 11 - 22),
            editing: String::new(),
            unread: 0,
        }
    }

    const STAMP: PageStamp = PageStamp { page_version: 3, directory_version: 1 };

    #[test]
    fn a_kept_page_carries_each_readers_own_token() {
        let cache = PageCache::new();
        let marker = cache.marker().to_owned();
        let rendered = format!("<input value=\"{marker}\"><p>text</p><input value=\"{marker}\">");

        let first = cache.keep(key(1), STAMP, &rendered, "token-of-the-first");
        assert_eq!(
            first,
            "<input value=\"token-of-the-first\"><p>text</p><input value=\"token-of-the-first\">"
        );

        let again = cache.get(&key(1), STAMP, "a-renewed-token").expect("kept");
        assert_eq!(again, "<input value=\"a-renewed-token\"><p>text</p><input value=\"a-renewed-token\">");
        assert!(!again.contains(&marker));
    }

    #[test]
    fn a_page_is_not_served_after_its_stamp_moved_on() {
        let cache = PageCache::new();
        cache.keep(key(1), STAMP, "<p>old</p>", "t");

        let edited = PageStamp { page_version: 4, ..STAMP };
        assert!(cache.get(&key(1), edited, "t").is_none());
        let renamed = PageStamp { directory_version: 2, ..STAMP };
        assert!(cache.get(&key(1), renamed, "t").is_none());
        assert!(cache.get(&key(2), STAMP, "t").is_none(), "another reader has their own page");
        assert_eq!(cache.get(&key(1), STAMP, "t").as_deref(), Some("<p>old</p>"));
    }

    #[test]
    fn the_kept_pages_stay_under_the_byte_bound() {
        let cache = PageCache::new();
        let page = "x".repeat(MAX_PAGE_BYTES);
        for reader in 0..40 {
            cache.keep(key(reader), STAMP, &page, "t");
        }
        let kept = cache.kept.lock().unwrap();
        assert!(kept.bytes <= MAX_BYTES, "{} bytes kept", kept.bytes);
        assert_eq!(kept.bytes, kept.pages.len() * MAX_PAGE_BYTES);
        assert!(kept.pages.contains_key(&key(39)), "the newest page is kept");
    }

    #[tokio::test]
    async fn one_request_renders_a_page_while_the_others_wait_for_it() {
        let cache = Arc::new(PageCache::new());
        let first = cache.turn(&key(1)).await;
        let waiter = {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                let _turn = cache.turn(&key(1)).await;
                cache.get(&key(1), STAMP, "t")
            })
        };
        let other_page = cache.turn(&key(2)).await;
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "the second request waits for the first");

        cache.keep(key(1), STAMP, "<p>rendered once</p>", "t");
        drop(first);
        assert_eq!(waiter.await.unwrap().as_deref(), Some("<p>rendered once</p>"));
        drop(other_page);
        assert!(cache.rendering.lock().unwrap().is_empty(), "no lock is left behind");
    }

    #[test]
    fn an_oversized_page_is_served_but_not_kept() {
        let cache = PageCache::new();
        let page = "x".repeat(MAX_PAGE_BYTES + 1);
        assert_eq!(cache.keep(key(1), STAMP, &page, "t").len(), page.len());
        assert!(cache.is_empty());
    }
}
