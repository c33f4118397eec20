//! `memory_search`'s ranking: an FTS5 query built from the words of the question (stop words
//! dropped, each word quoted; every word must match, as OpenClaw's query does, and only when
//! no chunk has them all may any word match; bm25 ranks the rest), optionally merged with
//! vector similarity (OpenClaw's weights: 0.7 vector, 0.3 keyword), then OpenClaw's result
//! shape. Vectors are streamed from the database into a bounded top-k, never all loaded.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::path::Path;
use std::sync::Arc;

use openclaw_state::ChunkHit;
use serde::Serialize;

use crate::config::{MemorySettings, TEXT_WEIGHT, VECTOR_WEIGHT};
use crate::embed::{Embedder, dot_blob};
use crate::index::{MemoryError, MemoryIndex, SyncReport};

/// Characters of a chunk shown as a result's snippet (OpenClaw's 700).
pub const SNIPPET_MAX_CHARS: usize = 700;
/// Words of a question used.
const MAX_TERMS: usize = 24;
/// Candidates taken from each retrieval path per requested result (OpenClaw's multiplier).
const CANDIDATE_MULTIPLIER: usize = 4;

const STOP_WORDS: &[&str] = &[
    "a", "about", "an", "and", "any", "are", "as", "at", "be", "but", "by", "can", "did", "do",
    "does", "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "is",
    "it", "its", "me", "my", "of", "on", "or", "our", "she", "so", "that", "the", "their", "them",
    "there", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who",
    "why", "will", "with", "you", "your",
];

/// One result, as OpenClaw's `memory_search` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub score: f64,
    pub snippet: String,
    pub source: &'static str,
    pub corpus: &'static str,
    pub citation: String,
}

/// `memory_search`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    pub results: Vec<SearchHit>,
    /// The embedding provider, `none` for keyword search only.
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub citations: &'static str,
    /// `hybrid` or `fts-only`.
    pub mode: &'static str,
    /// What the user should be told: degraded search, files that could not be indexed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Which words of the question a chunk must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Words {
    /// Every word (OpenClaw's query; few candidates to rank, so fast on a large index).
    All,
    /// Any word (the fallback when no chunk has them all).
    Any,
}

/// The FTS5 expression for `query` (the agent is a join condition of the search, not part of
/// the expression: every row of an agent would otherwise join the match); `None` when it has no
/// words.
pub fn fts_query(query: &str, words: Words) -> Option<String> {
    let terms = query_terms(query);
    if terms.is_empty() {
        return None;
    }
    let joiner = match words {
        Words::All => " AND ",
        Words::Any => " OR ",
    };
    let terms = terms
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(joiner);
    Some(format!("text : ({terms})"))
}

/// The query's distinct words (what [`fts_query`] searches for), lowercased.
fn query_terms(query: &str) -> Vec<String> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut terms: Vec<String> = words
        .iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .cloned()
        .collect();
    if terms.is_empty() {
        terms = words;
    }
    let mut seen = std::collections::HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
    terms.truncate(MAX_TERMS);
    terms
}

/// A keyword hit's 0..1 score: half bm25 (negative, lower is better, squashed), half the share
/// of the query's words the chunk contains (bm25 alone says little in a small corpus, where
/// every word's IDF is near zero).
fn text_score(bm25: f64, text: &str, terms: &[String]) -> f64 {
    let r = (-bm25).max(0.0);
    let squashed = r / (1.0 + r);
    if terms.is_empty() {
        return squashed;
    }
    let lower = text.to_lowercase();
    let found = terms.iter().filter(|t| lower.contains(t.as_str())).count();
    0.5 * squashed + 0.5 * (found as f64 / terms.len() as f64)
}

fn snippet(text: &str) -> String {
    match text.char_indices().nth(SNIPPET_MAX_CHARS) {
        Some((i, _)) => text[..i].to_owned(),
        None => text.to_owned(),
    }
}

#[derive(PartialEq)]
struct Scored(f32, i64);
impl Eq for Scored {}
impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scored {
    // Reversed: the heap's top is the worst kept candidate.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

/// One search request.
pub struct SearchRequest<'a> {
    pub agent_id: &'a str,
    pub workspace: &'a Path,
    pub query: &'a str,
    pub max_results: Option<usize>,
    pub min_score: Option<f64>,
}

/// Syncs the agent's index when stale, then searches it. Embedding problems degrade to keyword
/// search with a warning; only a database failure is an error.
pub async fn search(
    index: &Arc<MemoryIndex>,
    settings: &MemorySettings,
    embedder: Option<&Embedder>,
    req: SearchRequest<'_>,
) -> Result<SearchResponse, MemoryError> {
    let sync = index
        .sync_if_stale(req.agent_id, req.workspace, embedder)
        .await?;
    let max = req
        .max_results
        .unwrap_or(settings.max_results)
        .clamp(1, 100);
    let min_score = req.min_score.unwrap_or(settings.min_score);
    let candidates = max * CANDIDATE_MULTIPLIER;
    let mut notes: Vec<String> = Vec::new();
    if embedder.is_none() {
        // Said once in the mode; not a warning.
    }
    let query_vec = match embedder {
        Some(e) => match e.embed(&[req.query]).await {
            Ok(mut v) => v.pop(),
            Err(err) => {
                notes.push(format!(
                    "semantic search unavailable ({err}); keyword results only"
                ));
                None
            }
        },
        None => None,
    };
    let fts = fts_query(req.query, Words::All).zip(fts_query(req.query, Words::Any));
    let me = index.clone();
    let agent = req.agent_id.to_owned();
    let model = embedder.map(|e| e.model().to_owned());
    let qv = query_vec.clone();
    let (keyword, vector) = tokio::task::spawn_blocking(move || {
        me.with_db(|db| {
            let keyword = match &fts {
                Some((all, any)) => {
                    let hits = db.keyword(&agent, all, candidates)?;
                    if hits.is_empty() && all != any {
                        db.keyword(&agent, any, candidates)?
                    } else {
                        hits
                    }
                }
                None => Vec::new(),
            };
            let mut vector: Vec<(ChunkHit, f64)> = Vec::new();
            if let (Some(qv), Some(model)) = (&qv, &model) {
                let mut heap: BinaryHeap<Scored> = BinaryHeap::new();
                db.scan_vectors(&agent, model, &mut |id, blob| {
                    if let Some(s) = dot_blob(qv, blob) {
                        heap.push(Scored(s, id));
                        if heap.len() > candidates {
                            heap.pop();
                        }
                    }
                })?;
                let scores: HashMap<i64, f32> = heap.iter().map(|s| (s.1, s.0)).collect();
                let ids: Vec<i64> = scores.keys().copied().collect();
                for hit in db.chunks(&ids)? {
                    let s = scores.get(&hit.id).copied().unwrap_or(0.0);
                    vector.push((hit, f64::from(s.clamp(0.0, 1.0))));
                }
            }
            Ok((keyword, vector))
        })
    })
    .await
    .map_err(|e| MemoryError(format!("the memory search stopped: {e}")))??;
    let hybrid = query_vec.is_some();
    let results = rank(
        keyword,
        vector,
        hybrid,
        max,
        min_score,
        &query_terms(req.query),
    );
    if let Some(w) = sync.as_ref().and_then(file_warning) {
        notes.push(w);
    }
    Ok(SearchResponse {
        results,
        provider: embedder.map_or_else(|| "none".to_owned(), |e| e.provider().to_owned()),
        model: embedder.map(|e| e.model().to_owned()),
        citations: "auto",
        mode: if hybrid { "hybrid" } else { "fts-only" },
        warning: (!notes.is_empty()).then(|| notes.join(" ")),
    })
}

/// A warning naming the files the sync could not index.
pub fn file_warning(sync: &SyncReport) -> Option<String> {
    if sync.failed.is_empty() {
        return None;
    }
    let names: Vec<String> = sync
        .failed
        .iter()
        .take(5)
        .map(|(p, e)| format!("{p} ({e})"))
        .collect();
    let more = sync.failed.len().saturating_sub(5);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Some(format!(
        "{} memory file(s) could not be indexed and are not searched: {}{tail}.",
        sync.failed.len(),
        names.join(", ")
    ))
}

fn hit(c: &ChunkHit, score: f64) -> SearchHit {
    let citation = if c.start_line == c.end_line {
        format!("{}#L{}", c.path, c.start_line)
    } else {
        format!("{}#L{}-L{}", c.path, c.start_line, c.end_line)
    };
    SearchHit {
        path: c.path.clone(),
        start_line: c.start_line,
        end_line: c.end_line,
        score: (score * 10_000.0).round() / 10_000.0,
        snippet: snippet(&c.text),
        source: "memory",
        corpus: "memory",
        citation,
    }
}

/// Merges the two candidate lists. Keyword-only: bm25 order. Hybrid: 0.7 × vector + 0.3 ×
/// keyword. Results under `min_score` are dropped, unless none pass: then keyword matches are
/// kept (as OpenClaw does).
fn rank(
    keyword: Vec<ChunkHit>,
    vector: Vec<(ChunkHit, f64)>,
    hybrid: bool,
    max: usize,
    min_score: f64,
    terms: &[String],
) -> Vec<SearchHit> {
    let mut merged: HashMap<i64, (ChunkHit, f64, f64)> = HashMap::new();
    for k in keyword {
        let t = text_score(k.bm25, &k.text, terms);
        merged.insert(k.id, (k, t, 0.0));
    }
    for (c, v) in vector {
        merged
            .entry(c.id)
            .and_modify(|e| e.2 = v)
            .or_insert((c, 0.0, v));
    }
    let mut scored: Vec<(f64, bool, ChunkHit)> = merged
        .into_values()
        .map(|(c, t, v)| {
            let s = if hybrid {
                VECTOR_WEIGHT * v + TEXT_WEIGHT * t
            } else {
                t
            };
            (s, t > 0.0, c)
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.2.path.cmp(&b.2.path))
            .then(a.2.start_line.cmp(&b.2.start_line))
    });
    let passing: Vec<&(f64, bool, ChunkHit)> =
        scored.iter().filter(|(s, _, _)| *s >= min_score).collect();
    let chosen: Vec<&(f64, bool, ChunkHit)> = if passing.is_empty() {
        scored.iter().filter(|(_, kw, _)| *kw).collect()
    } else {
        passing
    };
    chosen
        .into_iter()
        .take(max)
        .map(|(s, _, c)| hit(c, *s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_become_all_word_then_any_word_queries() {
        let q = fts_query("What did I say about the dentist?", Words::All).unwrap();
        assert_eq!(q, "text : (\"say\" AND \"dentist\")");
        let q = fts_query("What did I say about the dentist?", Words::Any).unwrap();
        assert_eq!(q, "text : (\"say\" OR \"dentist\")");
        assert_eq!(fts_query("the", Words::All).unwrap(), "text : (\"the\")");
        assert_eq!(fts_query("?? !!", Words::Any), None);
    }

    #[test]
    fn keyword_matches_survive_a_high_min_score() {
        let c = |id, bm25| ChunkHit {
            id,
            path: "MEMORY.md".into(),
            start_line: 1,
            end_line: 2,
            text: "x".into(),
            bm25,
        };
        let out = rank(vec![c(1, -0.2), c(2, -0.1)], vec![], false, 5, 0.9, &[]);
        assert_eq!(out.len(), 2);
        assert!(out[0].score > out[1].score);
        assert_eq!(out[0].citation, "MEMORY.md#L1-L2");
    }
}
