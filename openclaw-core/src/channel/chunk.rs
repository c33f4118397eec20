//! Splitting a reply into messages no longer than a channel's limit (characters, as OpenClaw
//! counts them): each chunk ends at the last paragraph break inside the limit, else the last
//! line break, else the last whitespace, else (one unbroken word longer than the limit) at the
//! limit itself. Whitespace at a split is dropped; no other character is lost, reordered or
//! repeated, and no chunk is empty.

/// OpenClaw's default chunk limit (`DEFAULT_CHUNK_LIMIT`), also Telegram's.
pub const DEFAULT_CHUNK_LIMIT: usize = 4000;

/// `text` split into chunks of at most `limit` characters (a `limit` of 0 is taken as 1).
pub fn chunk_text(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((window_end, _)) = rest.char_indices().nth(limit) else {
            out.push(rest.to_owned());
            break;
        };
        let window = &rest[..window_end];
        // A break must leave something before it.
        let cut = find_break(window, "\n\n")
            .or_else(|| find_break(window, "\n"))
            .or_else(|| {
                window
                    .char_indices()
                    .rev()
                    .find(|(i, c)| *i > 0 && c.is_whitespace())
                    .map(|(i, _)| i)
            });
        let (head, tail) = match cut {
            Some(i) => (&rest[..i], &rest[i..]),
            // The next character starts right after the window: a split there loses nothing.
            None => (window, &rest[window_end..]),
        };
        let head = head.trim_end();
        if !head.is_empty() {
            out.push(head.to_owned());
        }
        rest = tail.trim_start();
    }
    out
}

fn find_break(window: &str, sep: &str) -> Option<usize> {
    window.rfind(sep).filter(|i| *i > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined_words(chunks: &[String]) -> Vec<String> {
        chunks
            .iter()
            .flat_map(|c| c.split_whitespace().map(str::to_owned))
            .collect()
    }

    #[test]
    fn short_text_is_one_chunk_and_empty_is_none() {
        assert_eq!(chunk_text("hello", 10), vec!["hello"]);
        assert!(chunk_text("  \n ", 10).is_empty());
    }

    #[test]
    fn prefers_a_paragraph_break_then_whitespace() {
        let text = format!("{}\n\n{}", "a".repeat(30), "b ".repeat(40));
        let chunks = chunk_text(&text, 50);
        assert_eq!(chunks[0], "a".repeat(30));
        assert!(chunks.iter().all(|c| c.chars().count() <= 50), "{chunks:?}");
        assert_eq!(joined_words(&chunks), joined_words(&[text]));
    }

    #[test]
    fn ten_thousand_characters_split_at_whitespace_within_the_limit() {
        let words: Vec<String> = (0..2000).map(|i| format!("w{i:03}")).collect();
        let text = words.join(" ");
        let chunks = chunk_text(&text, 4000);
        assert_eq!(chunks.len(), 3);
        for c in &chunks {
            assert!(c.chars().count() <= 4000);
            assert!(!c.starts_with(' ') && !c.ends_with(' '));
        }
        assert_eq!(joined_words(&chunks), words);
    }

    #[test]
    fn an_unbroken_word_is_cut_at_the_limit_without_losing_characters() {
        let text = "é".repeat(25);
        let chunks = chunk_text(&text, 10);
        assert_eq!(
            chunks.iter().map(|c| c.chars().count()).collect::<Vec<_>>(),
            [10, 10, 5]
        );
        assert_eq!(chunks.concat(), text);
    }
}
