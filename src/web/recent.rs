//! Copies of what was read a moment ago, trusted for a fixed while and
//! bounded in number: the sessions and the signed-in users a burst of
//! requests would otherwise read again and again.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Debug)]
pub struct Recent<K, V> {
    copies: Mutex<HashMap<K, (V, Instant)>>,
    fresh_for: Duration,
    max: usize,
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    /// Copies are used for `fresh_for` after they were kept; at most `max`
    /// are held, the oldest dropped first.
    pub fn new(fresh_for: Duration, max: usize) -> Recent<K, V> {
        Recent { copies: Mutex::new(HashMap::new()), fresh_for, max }
    }

    /// The copy of `key`, if it is still fresh and `usable`; otherwise the
    /// copy is dropped.
    pub fn get_if(&self, key: &K, usable: impl Fn(&V) -> bool) -> Option<V> {
        let mut copies = self.copies.lock().ok()?;
        let fresh =
            copies.get(key).is_some_and(|(value, taken)| taken.elapsed() < self.fresh_for && usable(value));
        if fresh {
            copies.get(key).map(|(value, _)| value.clone())
        } else {
            copies.remove(key);
            None
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.get_if(key, |_| true)
    }

    pub fn keep(&self, key: K, value: V) {
        let Ok(mut copies) = self.copies.lock() else { return };
        if copies.len() >= self.max && !copies.contains_key(&key) {
            let fresh_for = self.fresh_for;
            copies.retain(|_, (_, taken)| taken.elapsed() < fresh_for);
            if copies.len() >= self.max {
                let mut ages: Vec<Instant> = copies.values().map(|(_, taken)| *taken).collect();
                let middle = ages.len() / 2;
                let median = *ages.select_nth_unstable(middle).1;
                copies.retain(|_, (_, taken)| *taken > median);
            }
        }
        copies.insert(key, (value, Instant::now()));
    }

    pub fn forget(&self, key: &K) {
        if let Ok(mut copies) = self.copies.lock() {
            copies.remove(key);
        }
    }

    /// How many copies are held.
    pub fn len(&self) -> usize {
        self.copies.lock().map(|copies| copies.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
