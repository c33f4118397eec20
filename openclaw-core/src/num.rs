//! JSON numbers as JavaScript writes them: an integral `f64` is written without a fraction
//! (`0`, not `0.0`), so costs and other floats serialise exactly as pi's `JSON.stringify` does.

use serde::{Deserialize, Deserializer, Serializer};

/// Serialise an `f64` the way `JSON.stringify` does for finite values.
pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        s.serialize_i64(*v as i64)
    } else if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_none()
    }
}

/// Accept any JSON number (or `null`, read as 0).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(0.0))
}

/// The same rules for `Option<f64>`.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(f) => super::serialize(f, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<f64>::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize)]
    struct W {
        #[serde(with = "super")]
        v: f64,
    }

    #[test]
    fn integral_floats_have_no_fraction() {
        assert_eq!(serde_json::to_string(&W { v: 0.0 }).unwrap(), r#"{"v":0}"#);
        assert_eq!(serde_json::to_string(&W { v: 3.0 }).unwrap(), r#"{"v":3}"#);
        assert_eq!(
            serde_json::to_string(&W { v: 0.25 }).unwrap(),
            r#"{"v":0.25}"#
        );
    }
}
