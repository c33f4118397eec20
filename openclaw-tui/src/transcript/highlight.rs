//! Syntax highlighting of fenced code blocks (syntect, loaded lazily on first use so startup
//! stays fast), mapped onto the 16 ANSI colours so the terminal's palette decides the look.

use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

fn theme() -> Option<&'static Theme> {
    static THEME: OnceLock<Option<Theme>> = OnceLock::new();
    THEME
        .get_or_init(|| {
            let mut set = ThemeSet::load_defaults();
            set.themes.remove("base16-ocean.dark")
        })
        .as_ref()
}

/// Highlights `code` written in `lang` (a fence token such as `rust` or `py`); one span list per
/// source line. Unknown languages come back unstyled.
pub fn highlight(code: &str, lang: &str) -> Vec<Vec<Span<'static>>> {
    let plain = || {
        code.lines()
            .map(|l| vec![Span::raw(l.to_string())])
            .collect::<Vec<_>>()
    };
    let lang = lang.split([',', ' ']).next().unwrap_or("").trim();
    if lang.is_empty() {
        return plain();
    }
    let set = syntaxes();
    let Some(syntax) = set.find_syntax_by_token(lang) else {
        return plain();
    };
    let Some(theme) = theme() else {
        return plain();
    };
    let mut h = HighlightLines::new(syntax, theme);
    let mut out = Vec::new();
    for line in LinesWithEndings::from(code) {
        let Ok(ranges) = h.highlight_line(line, set) else {
            return plain();
        };
        let spans = ranges
            .into_iter()
            .filter_map(|(style, text)| {
                let text = text.trim_end_matches(['\n', '\r']);
                if text.is_empty() {
                    return None;
                }
                let mut s = Style::default().fg(ansi(style.foreground));
                if style.font_style.contains(FontStyle::BOLD) {
                    s = s.add_modifier(Modifier::BOLD);
                }
                if style.font_style.contains(FontStyle::ITALIC) {
                    s = s.add_modifier(Modifier::ITALIC);
                }
                Some(Span::styled(text.to_string(), s))
            })
            .collect();
        out.push(spans);
    }
    out
}

/// The nearest of the six ANSI hues (or the default foreground / gray for unsaturated colours).
fn ansi(c: syntect::highlighting::Color) -> Color {
    let (r, g, b) = (c.r as f32 / 255.0, c.g as f32 / 255.0, c.b as f32 / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let sat = if max == 0.0 { 0.0 } else { (max - min) / max };
    if sat < 0.25 {
        return if max < 0.55 {
            Color::DarkGray
        } else {
            Color::Reset
        };
    }
    let d = max - min;
    let hue = if max == r {
        60.0 * (((g - b) / d).rem_euclid(6.0))
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    match hue as u32 {
        0..=20 | 331..=360 => Color::Red,
        21..=70 => Color::Yellow,
        71..=160 => Color::Green,
        161..=200 => Color::Cyan,
        201..=260 => Color::Blue,
        _ => Color::Magenta,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_keywords_get_a_colour_and_unknown_languages_stay_plain() {
        let lines = highlight("fn main() {}\n", "rust");
        assert_eq!(lines.len(), 1);
        let styled = lines[0].iter().filter(|s| s.style.fg.is_some()).count();
        assert!(styled > 0, "{lines:?}");
        let plain = highlight("fn main() {}\n", "no-such-language");
        assert_eq!(plain, vec![vec![Span::raw("fn main() {}")]]);
    }
}
