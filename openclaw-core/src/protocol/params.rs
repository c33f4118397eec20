//! Method params as typed structs, checked with OpenClaw's validation messages.
//!
//! [`parse`] turns a request's `params` into a `#[serde(deny_unknown_fields)]` struct and words
//! any failure as OpenClaw's gateway does: `invalid <method> params: at root: unexpected property
//! 'x'`, `at /key: must be string`, `at root: must have required property 'key'`. The closed key
//! list is the struct's own field list (read once from its `Deserialize` impl), so a handler
//! never repeats it. The small value types here carry the schema's constraints: [`NonEmpty`]
//! strings, [`Bounded`] integers, [`Change`] for nullable patch fields.

use std::fmt;
use std::ops::Deref;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_path_to_error::Segment;

use super::ErrorShape;

/// Parses `params` (absent or `null` is `{}`) into `T`, refusing unknown keys first.
pub fn parse<T: DeserializeOwned>(method: &str, params: Option<Value>) -> Result<T, ErrorShape> {
    let map = match params {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ErrorShape::invalid_params(
                method,
                "at root: must be object",
            ));
        }
    };
    if let Some(fields) = fields_of::<T>() {
        if let Some(k) = map.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(ErrorShape::invalid_params(
                method,
                format!("at root: unexpected property '{k}'"),
            ));
        }
    }
    serde_path_to_error::deserialize(Value::Object(map))
        .map_err(|e| ErrorShape::invalid_params(method, wording(&e)))
}

/// A method's typed result as the `payload` of its response.
pub fn result<T: Serialize>(value: T) -> Result<Value, ErrorShape> {
    serde_json::to_value(value).map_err(|e| ErrorShape::unavailable(e.to_string()))
}

/// An error about one param, worded as a validation error (`at /key: why`).
pub fn invalid(method: &str, key: &str, why: impl fmt::Display) -> ErrorShape {
    ErrorShape::invalid_params(method, format!("at /{key}: {why}"))
}

/// The field names a struct's `Deserialize` asks for (`None` for anything but a plain struct).
pub fn fields_of<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut fields = None;
    // The probe always fails once it has seen the field list.
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields
}

/// A deserializer that records the field list of `deserialize_struct` and yields nothing.
struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("probe"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// `at root: …` / `at /a/0/b: …` with OpenClaw's wording for serde's message.
fn wording(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let msg = e.inner().to_string();
    let mut segments: Vec<String> = e
        .path()
        .iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{key}")),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect();
    // serde reports an unknown property at the property; OpenClaw at the object holding it.
    if msg.starts_with("unknown field `") {
        segments.pop();
    }
    let pointer = segments.concat();
    let at = if pointer.is_empty() {
        "root".to_owned()
    } else {
        pointer
    };
    format!("at {at}: {}", why(&msg))
}

/// The text between `open` and the next `close` in `s`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let rest = s.split_once(open)?.1;
    Some(rest.split_once(close)?.0)
}

/// serde's message as OpenClaw's validator words it; our own constraint messages pass as they are.
fn why(msg: &str) -> String {
    if let Some(f) = msg
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        return format!("must have required property '{f}'");
    }
    if let Some(f) = msg
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        return format!("unexpected property '{f}'");
    }
    if msg.starts_with("unknown variant `") {
        let allowed: Vec<&str> = msg
            .split_once("expected ")
            .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        return format!(
            "must be equal to one of the allowed values ({})",
            allowed.join(", ")
        );
    }
    if msg.starts_with("invalid type:") || msg.starts_with("invalid value:") {
        let expected = msg.split_once(", expected ").map_or("", |(_, e)| e);
        let negative = between(msg, "integer `", "`").is_some_and(|n| n.starts_with('-'));
        return match expected {
            "a string" => "must be string".into(),
            "a boolean" => "must be boolean".into(),
            "a sequence" => "must be array".into(),
            "f64" | "f32" | "a number" => "must be number".into(),
            e if e.starts_with("struct ") || e == "a map" => "must be object".into(),
            e if ["u8", "u16", "u32", "u64", "usize", "i32", "i64"].contains(&e) && negative => {
                "must be >= 0".into()
            }
            e if ["u8", "u16", "u32", "u64", "usize", "i32", "i64"].contains(&e) => {
                "must be integer".into()
            }
            e => format!("must be {e}"),
        };
    }
    msg.to_owned()
}

/// A string of at least one character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct NonEmpty(pub String);

impl Deref for NonEmpty {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NonEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Err(de::Error::custom("must NOT have fewer than 1 characters"));
        }
        Ok(NonEmpty(s))
    }
}

/// A session key: 1 to 512 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SessionKey(pub String);

impl Deref for SessionKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for SessionKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = NonEmpty::deserialize(d)?.0;
        if s.chars().count() > 512 {
            return Err(de::Error::custom("must NOT have more than 512 characters"));
        }
        Ok(SessionKey(s))
    }
}

/// An integer in `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Bounded<const MIN: u64, const MAX: u64>(pub u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    pub fn get(self) -> u64 {
        self.0
    }

    /// As a `usize` (saturating on 32-bit targets).
    pub fn usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        if n < MIN {
            return Err(de::Error::custom(format!("must be >= {MIN}")));
        }
        if n > MAX {
            return Err(de::Error::custom(format!("must be <= {MAX}")));
        }
        Ok(Bounded(n))
    }
}

/// Any non-negative integer.
pub type Count = Bounded<0, { u64::MAX }>;

/// A nullable patch field: absent keeps the value, `null` clears it, a value sets it. Use with
/// `#[serde(default)]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T: Clone> Change<T> {
    /// Applies the change to `slot`.
    pub fn apply(&self, slot: &mut Option<T>) {
        match self {
            Change::Keep => {}
            Change::Clear => *slot = None,
            Change::Set(v) => *slot = Some(v.clone()),
        }
    }

    /// The value being set, if any.
    pub fn set(&self) -> Option<&T> {
        match self {
            Change::Set(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_keep(&self) -> bool {
        matches!(self, Change::Keep)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Change<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Change::Clear,
            Some(v) => Change::Set(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct P {
        key: NonEmpty,
        limit: Option<Bounded<1, 10>>,
        flag: Option<bool>,
        items: Option<Vec<Item>>,
        sort_by: Option<Sort>,
        #[serde(default)]
        label: Change<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    enum Sort {
        UpdatedAt,
        Activity,
    }

    fn msg(v: Value) -> String {
        parse::<P>("m", Some(v))
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    }

    #[test]
    fn openclaw_wording() {
        let cases = [
            (
                json!({"key": "k", "x": 1}),
                "at root: unexpected property 'x'",
            ),
            (json!({}), "at root: must have required property 'key'"),
            (json!({"key": 1}), "at /key: must be string"),
            (
                json!({"key": ""}),
                "at /key: must NOT have fewer than 1 characters",
            ),
            (json!({"key": "k", "limit": 0}), "at /limit: must be >= 1"),
            (json!({"key": "k", "limit": 11}), "at /limit: must be <= 10"),
            (
                json!({"key": "k", "limit": "a"}),
                "at /limit: must be integer",
            ),
            (json!({"key": "k", "limit": -1}), "at /limit: must be >= 0"),
            (json!({"key": "k", "flag": 1}), "at /flag: must be boolean"),
            (json!({"key": "k", "items": {}}), "at /items: must be array"),
            (
                json!({"key": "k", "items": [{"name": "a"}, {}]}),
                "at /items/1: must have required property 'name'",
            ),
            (
                json!({"key": "k", "items": [{"name": "a", "z": 1}]}),
                "at /items/0: unexpected property 'z'",
            ),
            (
                json!({"key": "k", "sortBy": "x"}),
                "at /sortBy: must be equal to one of the allowed values (updatedAt, activity)",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(msg(v.clone()), format!("invalid m params: {want}"), "{v}");
        }
        let e = parse::<P>("m", Some(json!([1]))).unwrap_err();
        assert_eq!(e.message, "invalid m params: at root: must be object");
    }

    #[test]
    fn change_keeps_clears_and_sets() {
        let p: P = parse("m", Some(json!({"key": "k"}))).unwrap();
        assert_eq!(p.label, Change::Keep);
        let p: P = parse("m", Some(json!({"key": "k", "label": null}))).unwrap();
        assert_eq!(p.label, Change::Clear);
        let p: P = parse("m", Some(json!({"key": "k", "label": "x"}))).unwrap();
        assert_eq!(p.label, Change::Set("x".into()));
    }

    #[test]
    fn fields_come_from_the_struct() {
        let f = fields_of::<P>().unwrap();
        assert!(f.contains(&"sortBy") && f.contains(&"key") && f.len() == 6);
    }
}
