//! How many of something (connections, requests) each key (a source address, a client)
//! holds at once, up to a limit.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Counts per key of what is held now. Entries exist only while something is held, so the
/// map is bounded by what the server holds in all.
#[derive(Clone)]
pub struct HeldPerKey<K: Hash + Eq> {
    limit: u32,
    counts: Arc<Mutex<HashMap<K, u32>>>,
}

impl<K: Hash + Eq + Clone> HeldPerKey<K> {
    pub fn new(limit: u32) -> Self {
        HeldPerKey {
            limit,
            counts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// One more for `key`, released when the slot is dropped; `None` when the key is at its
    /// limit.
    pub fn claim(&self, key: K) -> Option<HeldSlot<K>> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(HeldSlot {
            key,
            counts: self.counts.clone(),
        })
    }

    /// Keys holding something now.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.counts.lock().unwrap().len()
    }
}

/// One thing held under a key; see [`HeldPerKey`].
pub struct HeldSlot<K: Hash + Eq> {
    key: K,
    counts: Arc<Mutex<HashMap<K, u32>>>,
}

impl<K: Hash + Eq> Drop for HeldSlot<K> {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}
