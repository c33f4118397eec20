//! The built-in Control UI's files, compiled into the binary by `build.rs` (raw, gzip and
//! brotli, each with its content hash), and the choice of a variant by `Accept-Encoding`.

/// One file of the UI.
pub(crate) struct Asset {
    /// The file name under the UI's base path (`app.js`).
    pub path: &'static str,
    pub content_type: &'static str,
    /// The first 16 hex digits of the SHA-256 of `raw`: the `?v=` of its URL and its ETag.
    pub hash: &'static str,
    pub raw: &'static [u8],
    pub gzip: &'static [u8],
    pub brotli: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// The file called `name`, if the UI has one.
pub(crate) fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == name)
}

/// A content coding the response is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` value, `None` for identity.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }

    /// The ETag suffix that keeps each variant's validator distinct.
    pub fn etag_suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => ".gz",
            Coding::Brotli => ".br",
        }
    }
}

/// The best coding an `Accept-Encoding` value allows: brotli, then gzip, then identity
/// (a coding with `q=0` is refused; `*` stands for any coding not named).
pub(crate) fn negotiate(accept: Option<&str>) -> Coding {
    let Some(accept) = accept else {
        return Coding::Identity;
    };
    let mut br = None;
    let mut gz = None;
    let mut star = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        match name.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gz = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    let ok = |q: Option<f32>| q.or(star).is_some_and(|q| q > 0.0);
    if ok(br) {
        Coding::Brotli
    } else if ok(gz) {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

impl Asset {
    /// The bytes of this file in `coding`.
    pub fn body(&self, coding: Coding) -> &'static [u8] {
        match coding {
            Coding::Identity => self.raw,
            Coding::Gzip => self.gzip,
            Coding::Brotli => self.brotli,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_chosen_by_preference_and_q_values() {
        assert_eq!(negotiate(None), Coding::Identity);
        assert_eq!(negotiate(Some("gzip, deflate, br, zstd")), Coding::Brotli);
        assert_eq!(negotiate(Some("gzip")), Coding::Gzip);
        assert_eq!(negotiate(Some("br;q=0, gzip;q=0.5")), Coding::Gzip);
        assert_eq!(negotiate(Some("*")), Coding::Brotli);
        assert_eq!(negotiate(Some("*;q=0, identity")), Coding::Identity);
        assert_eq!(negotiate(Some("identity")), Coding::Identity);
    }

    #[test]
    fn every_file_is_embedded_with_its_variants() {
        for name in ["index.html", "app.js", "gateway.js", "app.css"] {
            let a = find(name).unwrap();
            assert!(!a.raw.is_empty() && !a.gzip.is_empty() && !a.brotli.is_empty());
            assert!(a.brotli.len() < a.raw.len(), "{name}");
        }
        let index = std::str::from_utf8(find("index.html").unwrap().raw).unwrap();
        assert!(!index.contains("@@v:"), "placeholders are resolved");
        assert!(index.contains(&format!("app.js?v={}", find("app.js").unwrap().hash)));
    }
}
