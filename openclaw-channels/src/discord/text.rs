//! Discord's text rules: a reply split at 2000 characters *and* 17 lines per message
//! (`textChunkLimit`, `maxLinesPerMessage`) without breaking a code block (a fence open at a
//! split is closed there and reopened, with its language, in the next message), and mass
//! mentions neutralised (`@everyone` / `@here` never ping, even quoted back by the model).

use openclaw_core::channel::chunk::chunk_text;

/// Splits `text` into messages of at most `limit` characters and `max_lines` lines.
pub fn chunk(text: &str, limit: usize, max_lines: usize) -> Vec<String> {
    let limit = limit.max(16);
    let max_lines = max_lines.max(3);
    let fenced = text.contains("```");
    // Room for a reopened fence ("```lang\n") and its closing ("\n```").
    let (limit, max_lines) = if fenced {
        (limit - 16.min(limit / 4), max_lines - 2)
    } else {
        (limit, max_lines)
    };
    let mut pieces = Vec::new();
    for c in chunk_text(text, limit) {
        let lines: Vec<&str> = c.split('\n').collect();
        if lines.len() <= max_lines {
            pieces.push(c);
            continue;
        }
        for group in lines.chunks(max_lines) {
            let g = group.join("\n");
            let g = g.trim();
            if !g.is_empty() {
                pieces.push(g.to_owned());
            }
        }
    }
    if fenced {
        balance_fences(pieces)
    } else {
        pieces
    }
}

/// Closes a code fence left open at the end of a piece and reopens it in the next.
fn balance_fences(pieces: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(pieces.len());
    let mut open: Option<String> = None;
    for p in pieces {
        let mut s = match &open {
            Some(opener) => format!("{opener}\n{p}"),
            None => p,
        };
        open = None;
        for line in s.lines() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix("```") {
                open = match open {
                    Some(_) => None,
                    None => Some(format!("```{}", rest.trim())),
                };
            }
        }
        if open.is_some() {
            s.push_str("\n```");
        }
        out.push(s);
    }
    out
}

/// `@everyone` and `@here` with a zero-width space after the `@`, so they read the same and
/// notify nobody (the send's `allowed_mentions` refuses them as well).
pub fn neutralize_mass_mentions(text: &str) -> String {
    text.replace("@everyone", "@\u{200b}everyone")
        .replace("@here", "@\u{200b}here")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(chunks: &[String]) -> Vec<String> {
        chunks
            .iter()
            .flat_map(|c| c.split_whitespace().map(str::to_owned))
            .collect()
    }

    #[test]
    fn chunks_respect_characters_and_lines_and_lose_nothing() {
        let text: String = (0..400)
            .map(|i| format!("line {i} with a few words"))
            .collect::<Vec<_>>()
            .join("\n");
        let chunks = chunk(&text, 2000, 17);
        assert!(chunks.iter().all(|c| c.chars().count() <= 2000));
        assert!(chunks.iter().all(|c| c.lines().count() <= 17), "{chunks:?}");
        assert_eq!(words(&chunks), words(&[text]));
        let long: String = "word ".repeat(2000);
        let chunks = chunk(&long, 2000, 17);
        assert_eq!(
            chunks.len(),
            5,
            "400 words of 5 characters fit in one message"
        );
        assert!(chunks.iter().all(|c| c.chars().count() <= 2000));
    }

    #[test]
    fn a_code_block_split_across_messages_stays_a_code_block() {
        let body: String = (0..30)
            .map(|i| format!("let x{i} = {i};"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("Here:\n```rust\n{body}\n```\nDone.");
        let chunks = chunk(&text, 2000, 17);
        assert!(chunks.len() >= 2);
        for c in &chunks {
            assert_eq!(c.matches("```").count() % 2, 0, "{c}");
            assert!(c.lines().count() <= 17);
        }
        assert!(chunks[1].starts_with("```rust\n"), "{}", chunks[1]);
    }

    #[test]
    fn mass_mentions_are_neutralized() {
        let t = neutralize_mass_mentions("hi @everyone and @here, <@123>");
        assert!(!t.contains("@everyone") && !t.contains("@here"));
        assert!(t.contains("<@123>"));
    }
}
