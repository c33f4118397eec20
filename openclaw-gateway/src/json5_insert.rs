//! Adding members to an object inside a JSON5 document without rewriting the rest of it: a small
//! scanner finds where the object at a key path opens, the new members are inserted as text right
//! after its `{`, and the result is parsed again and compared with the expected value, so the
//! user's comments, order and formatting survive and a wrong edit is never written.

use serde_json::{Map, Value};

/// Where an object opens: the byte just after its `{`, and whether it already has members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ObjectOpen {
    after_brace: usize,
    has_members: bool,
}

/// A recursive-descent walk over JSON5 text that records where the object at `target` opens
/// (the last one, as JSON5 keeps the last of duplicate keys).
struct Scan<'a> {
    s: &'a [u8],
    i: usize,
    target: &'a [&'a str],
    path: Vec<String>,
    found: Option<ObjectOpen>,
    depth: usize,
}

/// Nesting deeper than this is refused (the walk is recursive).
const MAX_DEPTH: usize = 128;

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips whitespace and comments; `None` for an unterminated block comment.
    fn skip_space(&mut self) -> Option<()> {
        loop {
            match self.peek() {
                Some(c) if c.is_ascii_whitespace() => self.i += 1,
                // U+00A0, U+FEFF and other non-ASCII white space are rare; JSON5 allows them,
                // and the final re-parse check refuses anything this scanner misreads.
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'/') => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.i += 1;
                    }
                }
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'*') => {
                    let rest = self.s.get(self.i + 2..)?;
                    let end = rest.windows(2).position(|w| w == b"*/")?;
                    self.i += 2 + end + 2;
                }
                _ => return Some(()),
            }
        }
    }

    /// A quoted string; returns its text with simple escapes resolved.
    fn string(&mut self) -> Option<String> {
        let quote = self.peek()?;
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    out.push(e);
                }
                c if c == quote => break,
                c => out.push(c),
            }
        }
        String::from_utf8(out).ok()
    }

    /// An unquoted key (identifier).
    fn ident(&mut self) -> Option<String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80)
        {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn value(&mut self) -> Option<()> {
        self.skip_space()?;
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' | b'\'' => self.string().map(|_| ()),
            _ => {
                let start = self.i;
                while self.peek().is_some_and(|c| {
                    !c.is_ascii_whitespace() && !matches!(c, b',' | b'}' | b']' | b'/')
                }) {
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn object(&mut self) -> Option<()> {
        self.enter()?;
        self.i += 1;
        let after_brace = self.i;
        self.skip_space()?;
        let has_members = self.peek()? != b'}';
        if self
            .path
            .iter()
            .map(String::as_str)
            .eq(self.target.iter().copied())
        {
            self.found = Some(ObjectOpen {
                after_brace,
                has_members,
            });
        }
        loop {
            self.skip_space()?;
            if self.peek()? == b'}' {
                self.i += 1;
                break;
            }
            let key = match self.peek()? {
                b'"' | b'\'' => self.string()?,
                _ => self.ident()?,
            };
            self.skip_space()?;
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            self.path.push(key);
            self.value()?;
            self.path.pop();
            self.skip_space()?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {}
                _ => return None,
            }
        }
        self.depth -= 1;
        Some(())
    }

    fn array(&mut self) -> Option<()> {
        self.enter()?;
        self.i += 1;
        // Paths never go through arrays: a target inside one is not looked for.
        let saved = std::mem::replace(&mut self.path, vec!["[]".to_owned()]);
        loop {
            self.skip_space()?;
            if self.peek()? == b']' {
                self.i += 1;
                break;
            }
            self.value()?;
            self.skip_space()?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {}
                _ => return None,
            }
        }
        self.path = saved;
        self.depth -= 1;
        Some(())
    }
}

fn find_object(text: &str, target: &[&str]) -> Option<ObjectOpen> {
    let mut scan = Scan {
        s: text.as_bytes(),
        i: 0,
        target,
        path: Vec::new(),
        found: None,
        depth: 0,
    };
    scan.skip_space()?;
    if scan.peek()? != b'{' {
        return None;
    }
    scan.value()?;
    scan.found
}

/// The indentation of the first member line after `after_brace`, if the object is laid out one
/// member per line.
fn member_indent(text: &str, after_brace: usize) -> Option<&str> {
    let rest = &text[after_brace..];
    let newline = rest.find('\n')?;
    if !rest[..newline].trim().is_empty() {
        return None;
    }
    let line_start = newline + 1;
    let line = &rest[line_start..];
    let indent_len = line.len() - line.trim_start_matches([' ', '\t']).len();
    let first = line[indent_len..].chars().next()?;
    (first != '\n' && first != '\r').then(|| &line[..indent_len])
}

/// `v` on one line, spaced as people write it (`{ "a": 1, "b": [1, 2] }`).
fn inline(v: &Value) -> Option<String> {
    Some(match v {
        Value::Object(m) if m.is_empty() => "{}".to_owned(),
        Value::Object(m) => {
            let parts: Option<Vec<String>> = m
                .iter()
                .map(|(k, v)| {
                    Some(format!(
                        "{}: {}",
                        serde_json::to_string(k).ok()?,
                        inline(v)?
                    ))
                })
                .collect();
            format!("{{ {} }}", parts?.join(", "))
        }
        Value::Array(a) => {
            let parts: Option<Vec<String>> = a.iter().map(inline).collect();
            format!("[{}]", parts?.join(", "))
        }
        other => serde_json::to_string(other).ok()?,
    })
}

/// Inserts `members` (already-serialised `"key": value` pairs) into the object at `path` of the
/// JSON5 `text`, and returns the new text when it parses to exactly `original` with the members
/// added at `path`. `None` when the object cannot be found or the edit would change anything else.
pub(crate) fn insert_members(
    text: &str,
    original: &Value,
    path: &[&str],
    members: &Map<String, Value>,
) -> Option<String> {
    let open = find_object(text, path)?;
    let pairs: Vec<String> = members
        .iter()
        .map(|(k, v)| {
            Some(format!(
                "{}: {}",
                serde_json::to_string(k).ok()?,
                inline(v)?
            ))
        })
        .collect::<Option<_>>()?;
    let inserted = match (open.has_members, member_indent(text, open.after_brace)) {
        (true, Some(indent)) => {
            let lines: Vec<String> = pairs.iter().map(|p| format!("\n{indent}{p},")).collect();
            lines.concat()
        }
        (true, None) => format!(" {},", pairs.join(", ")),
        (false, _) => format!(" {} ", pairs.join(", ")),
    };
    let mut out = String::with_capacity(text.len() + inserted.len());
    out.push_str(&text[..open.after_brace]);
    out.push_str(&inserted);
    out.push_str(&text[open.after_brace..]);

    let mut expected = original.clone();
    let mut at = &mut expected;
    for key in path {
        at = at.get_mut(*key)?;
    }
    let obj = at.as_object_mut()?;
    for (k, v) in members {
        if obj.contains_key(k) {
            return None;
        }
        obj.insert(k.clone(), v.clone());
    }
    let reparsed: Value = openclaw_core::config::json5_from_str(&out).ok()?;
    (reparsed == expected).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn members(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn inserts_into_nested_objects_keeping_comments_and_layout() {
        let text = "// my config\n{\n  /* gateway */\n  gateway: {\n    port: 18789, // fixed\n    auth: { rateLimit: { maxAttempts: 3 } },\n  },\n  'agents': { list: [ { id: \"main\" } ] },\n}\n";
        let v: Value = openclaw_core::config::json5_from_str(text).unwrap();
        let out = insert_members(
            text,
            &v,
            &["gateway", "auth"],
            &members(json!({"mode": "token", "token": "abc"})),
        )
        .unwrap();
        assert!(
            out.contains("// my config")
                && out.contains("/* gateway */")
                && out.contains("// fixed")
        );
        let back: Value = openclaw_core::config::json5_from_str(&out).unwrap();
        assert_eq!(back["gateway"]["auth"]["token"], "abc");
        assert_eq!(back["gateway"]["auth"]["rateLimit"]["maxAttempts"], 3);
        assert_eq!(
            out.replace(" \"mode\": \"token\", \"token\": \"abc\",", ""),
            text
        );

        let out = insert_members(text, &v, &[], &members(json!({"x": 1}))).unwrap();
        assert!(
            out.starts_with("// my config\n{\n  \"x\": 1,\n  /* gateway */"),
            "{out}"
        );
        let out = insert_members("{}", &json!({}), &[], &members(json!({"a": {"b": [1, 2]}})));
        assert_eq!(out.as_deref(), Some("{ \"a\": { \"b\": [1, 2] } }"));
    }

    #[test]
    fn refuses_what_it_cannot_do_exactly() {
        // A duplicate key: JSON5 keeps the last one, and that is the one edited.
        let text = "{ gateway: { port: 1 }, gateway: { port: 2 } }";
        let v: Value = openclaw_core::config::json5_from_str(text).unwrap();
        let out = insert_members(text, &v, &["gateway"], &members(json!({"auth": 1}))).unwrap();
        assert_eq!(
            openclaw_core::config::json5_from_str(&out).unwrap()["gateway"]["auth"],
            1
        );
        assert!(
            insert_members(
                "{ a: 1 }",
                &json!({"a": 1}),
                &["gateway"],
                &members(json!({"x": 1}))
            )
            .is_none()
        );
        assert!(
            insert_members("{ a: 1 }", &json!({"a": 1}), &[], &members(json!({"a": 2}))).is_none()
        );
        assert!(
            insert_members("{ a: /* open", &json!({}), &[], &members(json!({"x": 1}))).is_none()
        );
        // Strings holding braces and comment markers do not confuse the scanner.
        let text = "{ s: \"{ // }\", t: '/* x', gateway: {} }";
        let v: Value = openclaw_core::config::json5_from_str(text).unwrap();
        let out = insert_members(text, &v, &["gateway"], &members(json!({"k": true}))).unwrap();
        assert_eq!(
            openclaw_core::config::json5_from_str(&out).unwrap()["gateway"]["k"],
            true
        );
    }
}
