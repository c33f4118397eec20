//! Markdown (what models write) to Telegram's HTML parse mode: `**b**` → `<b>`, `*i*` → `<i>`,
//! `~~s~~` → `<s>`, code → `<code>` / `<pre><code>`, links → `<a href>`, headings bold, lists
//! with bullets, quotes → `<blockquote>`. Every text and attribute is escaped (`&`, `<`, `>`,
//! and `"` in attributes); raw HTML the model wrote is shown as text, never passed through.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// Escapes text for Telegram HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// `markdown` as Telegram HTML.
pub fn markdown_to_html(markdown: &str) -> String {
    let mut out = String::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let block_gap = |out: &mut String| {
        let trimmed = out.trim_end_matches('\n').len();
        if trimmed > 0 {
            out.truncate(trimmed);
            out.push_str("\n\n");
        }
    };
    for event in Parser::new_ext(markdown, opts) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph | Tag::Heading { .. } | Tag::CodeBlock(_) | Tag::BlockQuote(_)
                    if lists.is_empty() =>
                {
                    block_gap(&mut out);
                    match tag {
                        Tag::Heading { .. } => out.push_str("<b>"),
                        Tag::BlockQuote(_) => out.push_str("<blockquote>"),
                        Tag::CodeBlock(CodeBlockKind::Fenced(lang)) if !lang.is_empty() => {
                            out.push_str(&format!(
                                "<pre><code class=\"language-{}\">",
                                escape(lang.split_whitespace().next().unwrap_or(""))
                            ));
                        }
                        Tag::CodeBlock(_) => out.push_str("<pre><code>"),
                        _ => {}
                    }
                }
                Tag::CodeBlock(_) => out.push_str("<pre><code>"),
                Tag::Heading { .. } => out.push_str("<b>"),
                Tag::List(start) => {
                    if lists.is_empty() {
                        block_gap(&mut out);
                    }
                    lists.push(start);
                }
                Tag::Item => {
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(&"  ".repeat(lists.len().saturating_sub(1)));
                    match lists.last_mut() {
                        Some(Some(n)) => {
                            out.push_str(&format!("{n}. "));
                            *n += 1;
                        }
                        _ => out.push_str("• "),
                    }
                }
                Tag::Emphasis => out.push_str("<i>"),
                Tag::Strong => out.push_str("<b>"),
                Tag::Strikethrough => out.push_str("<s>"),
                Tag::Link { dest_url, .. } => {
                    out.push_str(&format!("<a href=\"{}\">", escape(&dest_url)));
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Heading(_) => out.push_str("</b>"),
                TagEnd::BlockQuote(_) => out.push_str("</blockquote>"),
                TagEnd::CodeBlock => {
                    out.push_str("</code></pre>");
                }
                TagEnd::List(_) => {
                    lists.pop();
                }
                TagEnd::Emphasis => out.push_str("</i>"),
                TagEnd::Strong => out.push_str("</b>"),
                TagEnd::Strikethrough => out.push_str("</s>"),
                TagEnd::Link => out.push_str("</a>"),
                _ => {}
            },
            Event::Text(t) => out.push_str(&escape(&t)),
            Event::Code(t) => out.push_str(&format!("<code>{}</code>", escape(&t))),
            Event::Html(t) | Event::InlineHtml(t) => out.push_str(&escape(&t)),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Rule => {
                block_gap(&mut out);
                out.push_str("———");
            }
            Event::TaskListMarker(done) => out.push_str(if done { "☑ " } else { "☐ " }),
            Event::FootnoteReference(t) => out.push_str(&escape(&t)),
            _ => {}
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_and_escaping() {
        assert_eq!(
            markdown_to_html("**bold** & <tag>"),
            "<b>bold</b> &amp; &lt;tag&gt;"
        );
        assert_eq!(
            markdown_to_html("a *b* `x<y` ~~c~~"),
            "a <i>b</i> <code>x&lt;y</code> <s>c</s>"
        );
        assert_eq!(
            markdown_to_html("[l](https://e.x/?a=1&b=\"2\")"),
            "<a href=\"https://e.x/?a=1&amp;b=&quot;2&quot;\">l</a>"
        );
        assert_eq!(
            markdown_to_html("# Title\n\npara one\n\n```rust\nfn f() -> u8 { 1 < 2 }\n```"),
            "<b>Title</b>\n\npara one\n\n<pre><code class=\"language-rust\">fn f() -&gt; u8 { 1 &lt; 2 }\n</code></pre>"
        );
        assert_eq!(
            markdown_to_html("- a\n- b\n\n1. x\n2. y"),
            "• a\n• b\n\n1. x\n2. y"
        );
        assert_eq!(markdown_to_html("<b>raw</b>"), "&lt;b&gt;raw&lt;/b&gt;");
    }
}
