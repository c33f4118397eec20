//! The in-memory transcript: an ordered list of history cells, the single source of truth for
//! what the chat shows.
//!
//! Cells are mutated only by [`crate::app::App`] as agent events arrive (a streaming assistant
//! cell grows, a tool cell gets its result). Rendering turns cells into screen rows for the
//! current width on every frame (with a per-cell cache keyed by width and revision), so a resize
//! re-wraps everything and nothing depends on what the terminal happened to keep.

mod cell;
mod highlight;
mod markdown;
mod tool;

pub use cell::{AssistantBlock, Cell, CellKind, NoticeLevel, RenderOpts, human};
pub use markdown::render_markdown;
pub use tool::call_summary;

use ratatui::text::Line;

/// The ordered cells of the conversation.
#[derive(Debug, Default)]
pub struct Transcript {
    cells: Vec<Cell>,
}

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a cell and returns its index.
    pub fn push(&mut self, kind: CellKind) -> usize {
        self.cells.push(Cell::new(kind));
        self.cells.len() - 1
    }

    /// All cells, oldest first.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// Mutable access to a cell (bumps its revision so it re-renders).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut CellKind> {
        self.cells.get_mut(index).map(Cell::kind_mut)
    }

    /// The index of the last cell matching `pred`.
    pub fn rposition(&self, pred: impl Fn(&CellKind) -> bool) -> Option<usize> {
        self.cells.iter().rposition(|c| pred(c.kind()))
    }

    /// Removes every cell.
    pub fn clear(&mut self) {
        self.cells.clear();
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Every cell rendered at `width`, separated by blank rows.
    pub fn render(&self, width: u16, opts: RenderOpts) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        for cell in &self.cells {
            let rows = cell.rows(width, opts);
            if rows.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(Line::default());
            }
            out.extend(rows);
        }
        out
    }
}
