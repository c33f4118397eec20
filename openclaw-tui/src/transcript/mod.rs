//! The in-memory transcript: an ordered list of history cells, the single source of truth for
//! what the chat shows.
//!
//! Cells are mutated only by [`crate::app::App`] as agent events arrive (a streaming assistant
//! cell grows, a tool cell gets its result). Rendering turns cells into screen rows for the
//! current width on every frame (with a per-cell cache keyed by width and revision), so a resize
//! re-wraps everything and nothing depends on what the terminal happened to keep.

mod approval;
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
        let (total, rows) = self.window(width, opts, usize::MAX, 0);
        debug_assert_eq!(total, rows.len());
        rows
    }

    /// Renders only what a viewport shows: the `height` rows ending `from_bottom` rows above
    /// the last one. Returns the transcript's total row count and those rows. Cells keep their
    /// rendered rows cached, so a frame costs a copy of the visible rows only.
    pub fn window(
        &self,
        width: u16,
        opts: RenderOpts,
        height: usize,
        from_bottom: usize,
    ) -> (usize, Vec<Line<'static>>) {
        let parts: Vec<_> = self
            .cells
            .iter()
            .map(|c| c.rows(width, opts))
            .filter(|r| !r.is_empty())
            .collect();
        let total = parts.iter().map(|p| p.len()).sum::<usize>() + parts.len().saturating_sub(1);
        let end = total.saturating_sub(from_bottom.min(total));
        let start = end.saturating_sub(height);
        let mut out = Vec::with_capacity(end - start);
        let mut row = 0usize;
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                if row >= start && row < end {
                    out.push(Line::default());
                }
                row += 1;
            }
            let (lo, hi) = (row, row + part.len());
            if hi > start && lo < end {
                let a = start.saturating_sub(lo);
                let b = (end - lo).min(part.len());
                out.extend(part[a..b].iter().cloned());
            }
            row = hi;
            if row >= end {
                break;
            }
        }
        (total, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(rows: &[Line<'_>]) -> Vec<String> {
        rows.iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn window_is_a_slice_of_the_full_render() {
        let mut t = Transcript::new();
        for i in 0..7 {
            t.push(CellKind::User {
                text: format!("line {i}\nsecond {i}"),
            });
        }
        let full = t.render(30, RenderOpts::default());
        assert_eq!(full.len(), 7 * 2 + 6);
        for height in [1, 3, 5, 40] {
            for from_bottom in [0, 1, 2, 7, 19, 25] {
                let (total, rows) = t.window(30, RenderOpts::default(), height, from_bottom);
                assert_eq!(total, full.len());
                let end = total.saturating_sub(from_bottom.min(total));
                let start = end.saturating_sub(height);
                assert_eq!(
                    text(&rows),
                    text(&full[start..end]),
                    "h={height} b={from_bottom}"
                );
            }
        }
    }
}
