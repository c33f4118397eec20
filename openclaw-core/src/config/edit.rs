//! Editing openclaw.json in place: a change (`config set`'s dotted key, `config.patch`'s merge
//! patch) is made on the file's syntax tree (jsonc-parser's CST), so the user's comments,
//! key order, indentation and untouched values stay exactly as they were. Every edit is checked
//! by parsing the result as JSON5 and comparing it with the intended value; a file this editor
//! cannot change faithfully (JSON5 it does not parse, or an edit it cannot place) is refused
//! with [`EditError`] naming the file, and nothing is written.

use std::path::{Path, PathBuf};

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstArray, CstInputValue, CstObject, CstRootNode};
use serde_json::{Map, Value};

/// Why a file was not edited.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} cannot be changed keeping its comments and formatting: {reason}; nothing was written \
     (edit the file by hand)",
    .path.display()
)]
pub struct EditError {
    pub path: PathBuf,
    pub reason: String,
}

fn refuse(path: &Path, reason: impl Into<String>) -> EditError {
    EditError {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn input(v: &Value) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(input).collect()),
        Value::Object(m) => {
            CstInputValue::Object(m.iter().map(|(k, v)| (k.clone(), input(v))).collect())
        }
    }
}

fn parse(path: &Path, text: &str) -> Result<(CstRootNode, Value), EditError> {
    let before = super::parse_json5(path, text).map_err(|e| refuse(path, e.to_string()))?;
    let root = CstRootNode::parse(text, &ParseOptions::default())
        .map_err(|e| refuse(path, format!("its JSON5 is beyond this editor ({e})")))?;
    Ok((root, before))
}

/// The edited text, if it parses to `want`.
fn checked(path: &Path, root: &CstRootNode, want: &Value) -> Result<String, EditError> {
    let text = root.to_string();
    let got = super::parse_json5(path, &text)
        .map_err(|e| refuse(path, format!("the edited text would not parse ({e})")))?;
    if &got != want {
        return Err(refuse(path, "the change could not be placed exactly"));
    }
    Ok(text)
}

/// Sets the value at `keys` (object keys, or indices into lists; the index just past a list's
/// end appends) in `text`, creating objects on the way; an empty `text` is an empty object. Returns the new text and its value.
pub fn set_path(
    path: &Path,
    text: &str,
    keys: &[&str],
    value: &Value,
) -> Result<(String, Value), EditError> {
    let text = if text.trim().is_empty() { "{}\n" } else { text };
    let (root, mut want) = parse(path, text)?;
    set_value(&mut want, keys, value.clone()).map_err(|r| refuse(path, r))?;
    let obj = root
        .object_value()
        .ok_or_else(|| refuse(path, "the config is not an object"))?;
    set_in_object(&obj, keys, value).map_err(|r| refuse(path, r))?;
    Ok((checked(path, &root, &want)?, want))
}

fn set_in_object(obj: &CstObject, keys: &[&str], value: &Value) -> Result<(), String> {
    let Some((k, rest)) = keys.split_first() else {
        return Err("empty key".into());
    };
    if rest.is_empty() {
        match obj.get(k) {
            Some(prop) => prop.set_value(input(value)),
            None => {
                obj.append(k, input(value));
            }
        }
        return Ok(());
    }
    let prop_value = obj.get(k).and_then(|p| p.value());
    if let Some(arr) = prop_value.as_ref().and_then(|v| v.as_array()) {
        return set_in_array(&arr, rest, value);
    }
    let child = obj.object_value_or_set(k);
    set_in_object(&child, rest, value)
}

fn set_in_array(arr: &CstArray, keys: &[&str], value: &Value) -> Result<(), String> {
    let Some((k, rest)) = keys.split_first() else {
        return Err("empty key".into());
    };
    let idx: usize = k
        .parse()
        .map_err(|_| format!("\"{k}\" must be an index: that part of the config is a list"))?;
    let elements = arr.elements();
    if idx == elements.len() && rest.is_empty() {
        arr.append(input(value));
        return Ok(());
    }
    let node = elements.get(idx).ok_or_else(|| {
        format!(
            "index {idx} is out of range (the list has {})",
            elements.len()
        )
    })?;
    if rest.is_empty() {
        arr.insert(idx, input(value));
        node.clone().remove();
        return Ok(());
    }
    if let Some(o) = node.as_object() {
        return set_in_object(&o, rest, value);
    }
    if let Some(a) = node.as_array() {
        return set_in_array(&a, rest, value);
    }
    Err(format!("element {idx} is neither an object nor a list"))
}

/// [`set_path`] on a value (the intended result of an edit).
pub fn set_value(root: &mut Value, keys: &[&str], new: Value) -> Result<(), String> {
    let Some((k, rest)) = keys.split_first() else {
        return Err("empty key".into());
    };
    if k.is_empty() {
        return Err("empty key".into());
    }
    if let Value::Array(a) = root {
        let len = a.len();
        let idx: usize = k
            .parse()
            .map_err(|_| format!("\"{k}\" must be an index: that part of the config is a list"))?;
        if idx == len && rest.is_empty() {
            a.push(new);
            return Ok(());
        }
        let slot = a
            .get_mut(idx)
            .ok_or_else(|| format!("index {idx} is out of range (the list has {len})"))?;
        return match rest.is_empty() {
            true => {
                *slot = new;
                Ok(())
            }
            false => set_value(slot, rest, new),
        };
    }
    if !root.is_object() {
        *root = Value::Object(Map::new());
    }
    let Value::Object(m) = root else {
        return Err("not an object".into());
    };
    if rest.is_empty() {
        m.insert((*k).to_owned(), new);
        return Ok(());
    }
    let child = m
        .entry((*k).to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    set_value(child, rest, new)
}

/// RFC 7396 JSON merge patch on a value.
pub fn merge_value(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch_map {
            if v.is_null() {
                t.shift_remove(k);
            } else {
                merge_value(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Applies a JSON merge patch (RFC 7396) to `text` in place. Returns the new text and value.
pub fn merge_patch(path: &Path, text: &str, patch: &Value) -> Result<(String, Value), EditError> {
    let text = if text.trim().is_empty() { "{}\n" } else { text };
    let (root, mut want) = parse(path, text)?;
    merge_value(&mut want, patch);
    let Value::Object(patch) = patch else {
        return Err(refuse(path, "the patch is not an object"));
    };
    let obj = root
        .object_value()
        .ok_or_else(|| refuse(path, "the config is not an object"))?;
    merge_into(&obj, patch);
    Ok((checked(path, &root, &want)?, want))
}

fn merge_into(obj: &CstObject, patch: &Map<String, Value>) {
    for (k, v) in patch {
        match v {
            Value::Null => {
                if let Some(p) = obj.get(k) {
                    p.remove();
                }
            }
            Value::Object(inner) => {
                let existing = obj
                    .get(k)
                    .and_then(|p| p.value())
                    .and_then(|v| v.as_object());
                match existing {
                    Some(child) => merge_into(&child, inner),
                    None => {
                        let mut fresh = Value::Null;
                        merge_value(&mut fresh, v);
                        match obj.get(k) {
                            Some(p) => p.set_value(input(&fresh)),
                            None => {
                                obj.append(k, input(&fresh));
                            }
                        }
                    }
                }
            }
            other => match obj.get(k) {
                Some(p) => p.set_value(input(other)),
                None => {
                    obj.append(k, input(other));
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEXT: &str = "// my gateway\n{\n  gateway: {\n    port: 18789, // the usual\n  },\n  /* agents */\n  agents: { list: [{ id: 'main' }] },\n}\n";

    #[test]
    fn a_set_keeps_comments_and_formatting() {
        let p = Path::new("openclaw.json");
        let (out, value) = set_path(p, TEXT, &["gateway", "port"], &json!(19000)).unwrap();
        assert_eq!(out, TEXT.replace("18789", "19000"));
        assert_eq!(value["gateway"]["port"], 19000);
        let (out, _) = set_path(p, TEXT, &["agents", "list", "0", "model"], &json!("a/b")).unwrap();
        assert!(out.starts_with("// my gateway\n"), "{out}");
        assert!(
            out.contains("// the usual") && out.contains("/* agents */"),
            "{out}"
        );
        assert_eq!(
            super::super::parse_json5(p, &out).unwrap()["agents"]["list"][0]["model"],
            "a/b"
        );
        let (out, _) = set_path(p, "", &["gateway", "mode"], &json!("local")).unwrap();
        assert_eq!(
            super::super::parse_json5(p, &out).unwrap(),
            json!({"gateway": {"mode": "local"}})
        );
    }

    #[test]
    fn a_merge_patch_keeps_comments_and_removes_nulls() {
        let p = Path::new("openclaw.json");
        let patch = json!({"gateway": {"port": null, "bind": "loopback"}, "session": {"x": 1}});
        let (out, value) = merge_patch(p, TEXT, &patch).unwrap();
        assert!(
            out.contains("// my gateway") && out.contains("/* agents */"),
            "{out}"
        );
        assert_eq!(
            value,
            json!({"gateway": {"bind": "loopback"}, "agents": {"list": [{"id": "main"}]},
                "session": {"x": 1}})
        );
    }

    #[test]
    fn json5_beyond_the_editor_is_refused_by_name() {
        let p = Path::new("/home/u/.openclaw/openclaw.json");
        let text = "{\n  // hex\n  port: 0x4A3D,\n}\n";
        match set_path(p, text, &["gateway"], &json!({})) {
            Err(e) => assert!(
                e.to_string().contains("/home/u/.openclaw/openclaw.json"),
                "{e}"
            ),
            Ok((out, _)) => {
                // Accepted only if the result is exactly the intended value.
                let v = super::super::parse_json5(p, &out).unwrap();
                assert_eq!(v, json!({"port": 0x4A3D, "gateway": {}}));
            }
        }
        assert!(set_path(p, "{ a: ", &["a"], &json!(1)).is_err());
    }
}
