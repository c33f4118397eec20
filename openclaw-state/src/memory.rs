//! The memory index's records (`memory_files`, `memory_chunks`, `memory_fts`, `memory_agents`,
//! migration 7): per agent, which workspace memory files were indexed in which state, their
//! chunks with line ranges, the FTS5 keyword index over them and optional embedding vectors.
//!
//! [`MemoryDb`] holds its own connection to the state database, so a long (re)index never
//! holds the session store's lock. What to index and how to rank is `openclaw-memory`'s; this
//! module only stores and queries.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{SqliteStore, StateError, StateResult, paths, schema};

/// A memory file as last indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryFileRow {
    /// Workspace-relative, `/`-separated (`MEMORY.md`, `memory/2026-12-07.md`).
    pub path: String,
    pub size: u64,
    pub mtime_ms: u64,
    /// SHA-256 of the content (hex); empty when the file could not be read.
    pub hash: String,
    pub chunks: u32,
    /// More content than the per-file chunk bound: the rest is not indexed.
    pub truncated: bool,
    /// Why the file could not be indexed (unreadable, too large, not UTF-8): it is reported,
    /// never indexed as empty.
    pub error: Option<String>,
}

/// A chunk to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChunk {
    pub start_line: u32,
    pub end_line: u32,
    /// SHA-256 of `text` (hex): an unchanged chunk of a changed file keeps its vector.
    pub hash: String,
    pub text: String,
}

/// A stored chunk, as search returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkHit {
    pub id: i64,
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub text: String,
    /// The keyword rank (SQLite's `bm25`, negative: lower is better); 0 for vector-only hits.
    pub bm25: f64,
}

/// Counts for `openclaw memory status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryCounts {
    pub files: u64,
    pub chunks: u64,
    /// Chunks with a vector of the model asked about.
    pub embedded: u64,
    /// Files recorded with an error.
    pub failed: u64,
}

/// What the last sync of an agent recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryAgentRow {
    pub workspace: String,
    pub synced_at: u64,
    /// Why embeddings were not used on the last sync, if they were not.
    pub embed_note: Option<String>,
}

/// The memory index tables of one state database.
pub struct MemoryDb {
    conn: Connection,
}

impl MemoryDb {
    /// Opens (creating and migrating when needed) `<state_dir>/state.sqlite`.
    pub fn open(state_dir: &Path) -> StateResult<Self> {
        openclaw_core::fsutil::create_private_dir(state_dir)?;
        let path = paths::database(state_dir);
        let mut conn = SqliteStore::connect(&path).map_err(|source| StateError::Open {
            path: path.clone(),
            source,
        })?;
        schema::migrate(&mut conn)?;
        Ok(MemoryDb { conn })
    }

    /// Every indexed file of `agent_id`, by path.
    pub fn files(&self, agent_id: &str) -> StateResult<HashMap<String, MemoryFileRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, size, mtime_ms, hash, chunks, truncated, error FROM memory_files
             WHERE agent_id = ?1",
        )?;
        let rows = stmt.query_map([agent_id], |r| {
            Ok(MemoryFileRow {
                path: r.get(0)?,
                size: r.get::<_, i64>(1)?.max(0) as u64,
                mtime_ms: r.get::<_, i64>(2)?.max(0) as u64,
                hash: r.get(3)?,
                chunks: r.get::<_, i64>(4)?.clamp(0, i64::from(u32::MAX)) as u32,
                truncated: r.get::<_, i64>(5)? != 0,
                error: r.get(6)?,
            })
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let row = row?;
            out.insert(row.path.clone(), row);
        }
        Ok(out)
    }

    /// Replaces the given files (their rows and chunks) and removes `removed`, in one
    /// transaction. A chunk whose text is unchanged keeps the vector it had.
    pub fn apply(
        &mut self,
        agent_id: &str,
        changed: &[(MemoryFileRow, Vec<NewChunk>)],
        removed: &[String],
        now_ms: u64,
    ) -> StateResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for path in removed {
            tx.execute(
                "DELETE FROM memory_chunks WHERE agent_id = ?1 AND path = ?2",
                params![agent_id, path],
            )?;
            tx.execute(
                "DELETE FROM memory_files WHERE agent_id = ?1 AND path = ?2",
                params![agent_id, path],
            )?;
        }
        for (file, chunks) in changed {
            let kept = old_vectors(&tx, agent_id, &file.path)?;
            tx.execute(
                "DELETE FROM memory_chunks WHERE agent_id = ?1 AND path = ?2",
                params![agent_id, file.path],
            )?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO memory_chunks
                     (agent_id, path, start_line, end_line, hash, text, model, embedding)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for c in chunks {
                    let (model, vector) = match kept.get(&c.hash) {
                        Some((m, v)) => (Some(m.as_str()), Some(v.as_slice())),
                        None => (None, None),
                    };
                    ins.execute(params![
                        agent_id,
                        file.path,
                        c.start_line,
                        c.end_line,
                        c.hash,
                        c.text,
                        model,
                        vector
                    ])?;
                }
            }
            tx.execute(
                "INSERT OR REPLACE INTO memory_files
                 (agent_id, path, size, mtime_ms, hash, chunks, truncated, error, indexed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    agent_id,
                    file.path,
                    file.size as i64,
                    file.mtime_ms as i64,
                    file.hash,
                    file.chunks,
                    file.truncated,
                    file.error,
                    now_ms as i64
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes everything indexed for `agent_id` (`openclaw memory index --force`).
    pub fn clear(&mut self, agent_id: &str) -> StateResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM memory_chunks WHERE agent_id = ?1", [agent_id])?;
        tx.execute("DELETE FROM memory_files WHERE agent_id = ?1", [agent_id])?;
        tx.commit()?;
        Ok(())
    }

    /// The best `limit` chunks of `agent_id` for the FTS5 expression `fts_query` (bm25 over the
    /// text column; the agent is a join condition).
    pub fn keyword(
        &self,
        agent_id: &str,
        fts_query: &str,
        limit: usize,
    ) -> StateResult<Vec<ChunkHit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, c.path, c.start_line, c.end_line, c.text, f.rank
             FROM memory_fts f JOIN memory_chunks c ON c.id = f.rowid
             WHERE memory_fts MATCH ?1 AND f.rank MATCH 'bm25(1.0, 0.0)' AND c.agent_id = ?2
             ORDER BY f.rank LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![fts_query, agent_id, limit as i64], |r| {
            Ok(ChunkHit {
                id: r.get(0)?,
                path: r.get(1)?,
                start_line: r.get::<_, i64>(2)?.max(0) as u32,
                end_line: r.get::<_, i64>(3)?.max(0) as u32,
                text: r.get(4)?,
                bm25: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Streams every vector of `agent_id` made by `model` to `visit` (id, little-endian f32
    /// bytes), one row at a time: the vectors are never all in memory.
    pub fn scan_vectors(
        &self,
        agent_id: &str,
        model: &str,
        visit: &mut dyn FnMut(i64, &[u8]),
    ) -> StateResult<()> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, embedding FROM memory_chunks
             WHERE agent_id = ?1 AND model = ?2 AND embedding IS NOT NULL",
        )?;
        let mut rows = stmt.query(params![agent_id, model])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if let rusqlite::types::ValueRef::Blob(b) = row.get_ref(1)? {
                visit(id, b);
            }
        }
        Ok(())
    }

    /// The chunks with these ids (any order).
    pub fn chunks(&self, ids: &[i64]) -> StateResult<Vec<ChunkHit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, path, start_line, end_line, text FROM memory_chunks WHERE id = ?1",
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let hit = stmt
                .query_row([id], |r| {
                    Ok(ChunkHit {
                        id: r.get(0)?,
                        path: r.get(1)?,
                        start_line: r.get::<_, i64>(2)?.max(0) as u32,
                        end_line: r.get::<_, i64>(3)?.max(0) as u32,
                        text: r.get(4)?,
                        bm25: 0.0,
                    })
                })
                .optional()?;
            out.extend(hit);
        }
        Ok(out)
    }

    /// Up to `limit` chunks of `agent_id` without a vector of `model` (id, text).
    pub fn missing_vectors(
        &self,
        agent_id: &str,
        model: &str,
        limit: usize,
    ) -> StateResult<Vec<(i64, String)>> {
        // `model` and `embedding` are written together (both or neither: the insert above and
        // `set_vectors`), so "no vector of this model" is "model NULL or another one"; each arm
        // is a range of the (agent_id, model) index, so a sync that finds one new chunk reads
        // one row instead of every chunk of the agent (687 ms → see BENCHMARKS.md).
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, text FROM memory_chunks WHERE agent_id = ?1 AND model IS NULL
             UNION ALL
             SELECT id, text FROM memory_chunks WHERE agent_id = ?1 AND model < ?2
             UNION ALL
             SELECT id, text FROM memory_chunks WHERE agent_id = ?1 AND model > ?2
             LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![agent_id, model, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Stores vectors made by `model`.
    pub fn set_vectors(&mut self, model: &str, vectors: &[(i64, Vec<u8>)]) -> StateResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut up = tx.prepare_cached(
                "UPDATE memory_chunks SET model = ?1, embedding = ?2 WHERE id = ?3",
            )?;
            for (id, v) in vectors {
                up.execute(params![model, v, id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Counts of `agent_id`'s index (`embedded`: vectors of `model`).
    pub fn counts(&self, agent_id: &str, model: Option<&str>) -> StateResult<MemoryCounts> {
        let (files, failed): (i64, i64) = self.conn.query_row(
            "SELECT COUNT(*), COUNT(error) FROM memory_files WHERE agent_id = ?1",
            [agent_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let chunks: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM memory_chunks WHERE agent_id = ?1",
            [agent_id],
            |r| r.get(0),
        )?;
        let embedded: i64 = match model {
            Some(m) => self.conn.query_row(
                "SELECT COUNT(*) FROM memory_chunks
                 WHERE agent_id = ?1 AND model = ?2 AND embedding IS NOT NULL",
                params![agent_id, m],
                |r| r.get(0),
            )?,
            None => 0,
        };
        Ok(MemoryCounts {
            files: files.max(0) as u64,
            chunks: chunks.max(0) as u64,
            embedded: embedded.max(0) as u64,
            failed: failed.max(0) as u64,
        })
    }

    /// What the last sync of `agent_id` recorded.
    pub fn agent(&self, agent_id: &str) -> StateResult<Option<MemoryAgentRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT workspace, synced_at, embed_note FROM memory_agents WHERE agent_id = ?1",
                [agent_id],
                |r| {
                    Ok(MemoryAgentRow {
                        workspace: r.get(0)?,
                        synced_at: r.get::<_, i64>(1)?.max(0) as u64,
                        embed_note: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records a finished sync of `agent_id`.
    pub fn put_agent(&self, agent_id: &str, row: &MemoryAgentRow) -> StateResult<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO memory_agents (agent_id, workspace, synced_at, embed_note)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                agent_id,
                row.workspace,
                row.synced_at as i64,
                row.embed_note
            ],
        )?;
        Ok(())
    }
}

/// The vectors of a file's current chunks, by chunk hash (reused when a chunk survives an edit).
fn old_vectors(
    tx: &rusqlite::Transaction<'_>,
    agent_id: &str,
    path: &str,
) -> StateResult<HashMap<String, (String, Vec<u8>)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT hash, model, embedding FROM memory_chunks
         WHERE agent_id = ?1 AND path = ?2 AND embedding IS NOT NULL AND model IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![agent_id, path], |r| {
        Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?)))
    })?;
    Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
}
