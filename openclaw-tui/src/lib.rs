//! The interactive terminal chat (ratatui).
