//! Argument schemas and their validation: clean JSON schemas generated from Rust types with
//! schemars, and [`validate_arguments`], which checks a call's arguments the way pi's AJV setup
//! does (with its type coercion) and words failures as pi does.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// The clean JSON schema of `T` a model is shown: `{type:"object", properties, required}`,
/// sub-schemas inlined, no `$schema`/`title`/`format`, optional fields without `null`.
pub fn schema_for<T: JsonSchema + 'static>() -> Value {
    // Generating a schema is costly and the answer never changes: once per type per process.
    static CACHE: OnceLock<Mutex<HashMap<TypeId, Value>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let id = TypeId::of::<T>();
    if let Some(schema) = crate::sync::lock(cache).get(&id) {
        return schema.clone();
    }
    let schema = generate::<T>();
    crate::sync::lock(cache).insert(id, schema.clone());
    schema
}

fn generate<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft07()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    let mut schema = clean(generator.into_root_schema_for::<T>().to_value());
    // The type's own doc comment is for Rust readers, not for the model.
    if let Some(map) = schema.as_object_mut() {
        map.remove("description");
    }
    schema
}

fn clean(v: Value) -> Value {
    match v {
        Value::Object(map) => clean_object(map),
        Value::Array(items) => Value::Array(items.into_iter().map(clean).collect()),
        other => other,
    }
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

fn clean_object(mut map: Map<String, Value>) -> Value {
    for k in ["$schema", "title", "format", "$defs", "definitions"] {
        map.remove(k);
    }
    if map.get("default").is_some_and(Value::is_null) {
        map.remove("default");
    }
    // `Option<T>` shows up as `type: [T, "null"]` or `anyOf: [T, {type: null}]`.
    if let Some(Value::Array(types)) = map.get("type") {
        let kept: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        let new = if kept.len() == 1 {
            kept[0].clone()
        } else {
            Value::Array(kept)
        };
        map.insert("type".into(), new);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = map.get(key) {
            let kept: Vec<Value> = alts
                .iter()
                .filter(|a| !is_null_schema(a))
                .cloned()
                .collect();
            if kept.len() == 1 && kept.len() < alts.len() {
                map.remove(key);
                if let Value::Object(inner) = &kept[0] {
                    for (k, v) in inner {
                        map.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
    }
    // pi's key order: type first, then properties, required, the rest.
    let mut out = Map::new();
    for k in ["type", "description", "properties", "items", "required"] {
        if let Some(v) = map.remove(k) {
            let v = if k == "properties" {
                match v {
                    Value::Object(props) => Value::Object(
                        props
                            .into_iter()
                            .map(|(name, s)| (name, clean(s)))
                            .collect(),
                    ),
                    other => other,
                }
            } else if k == "items" {
                clean(v)
            } else {
                v
            };
            out.insert(k.to_string(), v);
        }
    }
    for (k, v) in map {
        out.insert(k, clean(v));
    }
    Value::Object(out)
}

/// Check (and coerce, as AJV's `coerceTypes` does) `args` against `schema`. Returns the
/// coerced arguments, or pi's error text:
/// `Validation failed for tool "X":\n  - field: message\n\nReceived arguments:\n{…}`.
pub fn validate_arguments(tool_name: &str, schema: &Value, args: &Value) -> Result<Value, String> {
    let mut value = args.clone();
    let mut errors = Vec::new();
    check(schema, &mut value, "", &mut errors);
    if errors.is_empty() {
        return Ok(value);
    }
    let lines: Vec<String> = errors
        .iter()
        .map(|(path, msg)| format!("  - {path}: {msg}"))
        .collect();
    let received = serde_json::to_string_pretty(args).unwrap_or_else(|_| args.to_string());
    Err(format!(
        "Validation failed for tool \"{tool_name}\":\n{}\n\nReceived arguments:\n{received}",
        lines.join("\n")
    ))
}

fn label(path: &str) -> String {
    if path.is_empty() {
        "root".to_string()
    } else {
        path.trim_start_matches('/').to_string()
    }
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn number_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// AJV's scalar coercions.
fn coerce(ty: &str, v: &Value) -> Option<Value> {
    match (ty, v) {
        ("number" | "integer", Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                return None;
            }
            let f: f64 = t.parse().ok()?;
            (f.is_finite() && (ty == "number" || f.fract() == 0.0)).then(|| number_value(f))
        }
        ("number" | "integer", Value::Bool(b)) => Some(Value::from(u8::from(*b))),
        ("number" | "integer", Value::Null) => Some(Value::from(0)),
        ("string", Value::Number(n)) => Some(Value::String(n.to_string())),
        ("string", Value::Bool(b)) => Some(Value::String(b.to_string())),
        ("string", Value::Null) => Some(Value::String(String::new())),
        ("boolean", Value::String(s)) if s == "true" => Some(Value::Bool(true)),
        ("boolean", Value::String(s)) if s == "false" => Some(Value::Bool(false)),
        ("boolean", Value::Number(n)) if n.as_f64() == Some(1.0) => Some(Value::Bool(true)),
        ("boolean", Value::Number(n)) if n.as_f64() == Some(0.0) => Some(Value::Bool(false)),
        ("boolean", Value::Null) => Some(Value::Bool(false)),
        _ => None,
    }
}

fn check(schema: &Value, v: &mut Value, path: &str, errors: &mut Vec<(String, String)>) {
    let Some(s) = schema.as_object() else { return };
    if let Some(ty) = s.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.is_empty() && !types.iter().any(|t| type_matches(t, v)) {
            match types.iter().find_map(|t| coerce(t, v)) {
                Some(c) => *v = c,
                None => {
                    errors.push((label(path), format!("must be {}", types.join(","))));
                    return;
                }
            }
        }
    }
    if let Some(Value::Array(allowed)) = s.get("enum") {
        if !allowed.contains(v) {
            errors.push((
                label(path),
                "must be equal to one of the allowed values".into(),
            ));
        }
    }
    match v {
        Value::Object(obj) => {
            if let Some(Value::Array(req)) = s.get("required") {
                let missing: Vec<&str> = req
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|k| !obj.contains_key(*k))
                    .collect();
                if !missing.is_empty() {
                    let at = if path.is_empty() {
                        missing[0].to_string()
                    } else {
                        label(path)
                    };
                    errors.push((
                        at,
                        format!("must have required properties {}", missing.join(", ")),
                    ));
                }
            }
            if let Some(Value::Object(props)) = s.get("properties") {
                for (name, sub) in props {
                    if let Some(child) = obj.get_mut(name) {
                        check(sub, child, &format!("{path}/{name}"), errors);
                    }
                }
            }
            if s.get("additionalProperties") == Some(&Value::Bool(false)) {
                let props = s.get("properties").and_then(Value::as_object);
                if obj
                    .keys()
                    .any(|k| !props.is_some_and(|p| p.contains_key(k)))
                {
                    errors.push((label(path), "must NOT have additional properties".into()));
                }
            }
        }
        Value::Array(items) => {
            if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
                if (items.len() as u64) < min {
                    errors.push((label(path), format!("must NOT have fewer than {min} items")));
                }
            }
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    check(item_schema, item, &format!("{path}/{i}"), errors);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[allow(dead_code)]
    #[derive(schemars::JsonSchema, serde::Deserialize)]
    struct Args {
        /// The path.
        path: String,
        /// A count.
        limit: Option<f64>,
        items: Option<Vec<Item>>,
    }

    #[allow(dead_code)]
    #[derive(schemars::JsonSchema, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Item {
        /// Old.
        old_text: String,
    }

    #[test]
    fn generated_schema_is_clean() {
        let s = schema_for::<Args>();
        assert_eq!(
            s,
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "The path."},
                    "limit": {"type": "number", "description": "A count."},
                    "items": {"type": "array", "items": {
                        "type": "object",
                        "properties": {"oldText": {"type": "string", "description": "Old."}},
                        "required": ["oldText"]
                    }}
                },
                "required": ["path"]
            })
        );
    }

    #[test]
    fn missing_required_has_pi_text() {
        let s = schema_for::<Args>();
        let err = validate_arguments("read", &s, &json!({"file": "a.txt"})).unwrap_err();
        assert_eq!(
            err,
            "Validation failed for tool \"read\":\n  - path: must have required properties path\n\nReceived arguments:\n{\n  \"file\": \"a.txt\"\n}"
        );
    }

    #[test]
    fn coerces_like_ajv() {
        let s = schema_for::<Args>();
        let ok = validate_arguments("read", &s, &json!({"path": 5, "limit": "10"})).unwrap();
        assert_eq!(ok, json!({"path": "5", "limit": 10}));
        let err =
            validate_arguments("read", &s, &json!({"path": "a", "limit": "ten"})).unwrap_err();
        assert!(err.contains("  - limit: must be number\n"), "{err}");
        let err =
            validate_arguments("read", &s, &json!({"path": "a", "items": [{"x": 1}]})).unwrap_err();
        assert!(
            err.contains("  - items/0: must have required properties oldText"),
            "{err}"
        );
    }
}
