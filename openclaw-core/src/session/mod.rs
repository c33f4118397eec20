//! The pi session file format (v3 JSONL tree), the file store, context building, branching and compaction.
