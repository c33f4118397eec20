//! The id → position index of a session's entries.
//!
//! It stores positions only and reads each entry's id from the entry itself, so a long
//! transcript does not keep a second copy of every id. Positions are never removed: entries
//! are only ever appended.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::entry::SessionEntry;

/// Positions in an entry list, found by entry id.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntryIndex {
    table: HashTable<usize>,
    hasher: RandomState,
}

fn id_at(entries: &[SessionEntry], pos: usize) -> &str {
    entries.get(pos).map_or("", SessionEntry::id)
}

impl EntryIndex {
    /// Room for `additional` more ids.
    pub fn reserve(&mut self, additional: usize, entries: &[SessionEntry]) {
        let hasher = &self.hasher;
        self.table
            .reserve(additional, |&p| hasher.hash_one(id_at(entries, p)));
    }

    /// Records that `id` is at `pos` (`entries` holds every position recorded so far; `pos`
    /// itself may be the next one, not pushed yet). Returns whether `id` was already recorded:
    /// the new position then replaces the old one, so the last occurrence wins.
    pub fn insert(&mut self, id: &str, pos: usize, entries: &[SessionEntry]) -> bool {
        let hasher = &self.hasher;
        let entry = self.table.entry(
            hasher.hash_one(id),
            |&p| id_at(entries, p) == id,
            |&p| hasher.hash_one(id_at(entries, p)),
        );
        match entry {
            Entry::Occupied(mut o) => {
                *o.get_mut() = pos;
                true
            }
            Entry::Vacant(v) => {
                v.insert(pos);
                false
            }
        }
    }

    /// The position of `id`.
    pub fn get(&self, id: &str, entries: &[SessionEntry]) -> Option<usize> {
        self.table
            .find(self.hasher.hash_one(id), |&p| id_at(entries, p) == id)
            .copied()
    }

    pub fn contains(&self, id: &str, entries: &[SessionEntry]) -> bool {
        self.get(id, entries).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::entry::SessionEntry;

    fn entry(id: &str) -> SessionEntry {
        SessionEntry::parse(&format!(
            r#"{{"type":"label","id":"{id}","parentId":null,"timestamp":"2026-01-01T00:00:00.000Z","targetId":"x"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn finds_positions_by_id_and_the_last_duplicate_wins() {
        let mut entries = Vec::new();
        let mut index = EntryIndex::default();
        for i in 0..5000 {
            let id = format!("{i:08x}");
            assert!(!index.insert(&id, entries.len(), &entries));
            entries.push(entry(&id));
        }
        assert_eq!(index.get("00000000", &entries), Some(0));
        assert_eq!(index.get(&format!("{:08x}", 4999), &entries), Some(4999));
        assert!(!index.contains("zzzzzzzz", &entries));
        // A hand-edited file repeating an id: the later position replaces the earlier one.
        assert!(index.insert("00000007", entries.len(), &entries));
        entries.push(entry("00000007"));
        assert_eq!(index.get("00000007", &entries), Some(5000));
    }
}
