//! Params validation with OpenClaw's messages: closed objects and typed fields, reported as
//! `invalid <method> params: <where>: <what>`.

use openclaw_core::protocol::ErrorShape;
use serde_json::{Map, Value};

/// A method's params object.
pub(crate) struct Params {
    method: String,
    map: Map<String, Value>,
}

impl Params {
    /// Absent or `null` params are an empty object; anything but an object is refused.
    pub fn new(method: &str, params: Option<Value>) -> Result<Self, ErrorShape> {
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
        Ok(Self {
            method: method.to_owned(),
            map,
        })
    }

    fn err(&self, why: impl std::fmt::Display) -> ErrorShape {
        ErrorShape::invalid_params(&self.method, why)
    }

    /// Refuses keys outside `allowed`.
    pub fn closed(self, allowed: &[&str]) -> Result<Self, ErrorShape> {
        if let Some(k) = self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(self.err(format!("at root: unexpected property '{k}'")));
        }
        Ok(self)
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// A required string that may be empty.
    pub fn required_text(&self, key: &str) -> Result<&str, ErrorShape> {
        match self.map.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(self.err(format!("at /{key}: must be string"))),
            None => Err(self.err(format!("at root: must have required property '{key}'"))),
        }
    }

    /// A list of non-empty strings.
    pub fn str_list(&self, key: &str) -> Result<Option<Vec<String>>, ErrorShape> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    _ => Err(self.err(format!("at /{key}: must be array of non-empty strings"))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.err(format!("at /{key}: must be array"))),
        }
    }

    /// An error for this method's params.
    pub fn invalid(&self, why: impl std::fmt::Display) -> ErrorShape {
        self.err(why)
    }

    pub fn str(&self, key: &str) -> Result<Option<&str>, ErrorShape> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
            Some(Value::String(_)) => {
                Err(self.err(format!("at /{key}: must NOT have fewer than 1 characters")))
            }
            Some(_) => Err(self.err(format!("at /{key}: must be string"))),
        }
    }

    pub fn required_str(&self, key: &str) -> Result<&str, ErrorShape> {
        self.str(key)?
            .ok_or_else(|| self.err(format!("at root: must have required property '{key}'")))
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ErrorShape> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.err(format!("at /{key}: must be boolean"))),
        }
    }

    pub fn uint(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, ErrorShape> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n < min => Err(self.err(format!("at /{key}: must be >= {min}"))),
                Some(n) if n > max => Err(self.err(format!("at /{key}: must be <= {max}"))),
                Some(n) => Ok(Some(n)),
                None => Err(self.err(format!("at /{key}: must be integer"))),
            },
        }
    }

    /// A string restricted to `choices`.
    pub fn choice(&self, key: &str, choices: &[&str]) -> Result<Option<&str>, ErrorShape> {
        match self.str(key)? {
            Some(s) if !choices.contains(&s) => Err(self.err(format!(
                "at /{key}: must be equal to one of the allowed values ({})",
                choices.join(", ")
            ))),
            other => Ok(other),
        }
    }
}
