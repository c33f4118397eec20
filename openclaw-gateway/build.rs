//! Builds the built-in Control UI's asset table: every file of `ui/` is read, its
//! `@@v:<file>@@` placeholders are replaced by the referenced file's content hash (so a changed
//! file gets a new URL and the others may be cached for ever), and the result is written to
//! `OUT_DIR/ui/` with gzip and brotli variants next to it. `OUT_DIR/ui_assets.rs` lists them
//! for `control_ui::assets` (`include_bytes!`), so the binary carries the whole UI and nothing
//! is compressed at run time.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The UI's files, each after every file it references.
const FILES: &[(&str, &str)] = &[
    ("favicon.svg", "image/svg+xml"),
    ("app.css", "text/css; charset=utf-8"),
    ("gateway.js", "text/javascript; charset=utf-8"),
    ("dom.js", "text/javascript; charset=utf-8"),
    ("chat.js", "text/javascript; charset=utf-8"),
    ("panels.js", "text/javascript; charset=utf-8"),
    ("app.js", "text/javascript; charset=utf-8"),
    ("index.html", "text/html; charset=utf-8"),
];

fn main() {
    if let Err(e) = build() {
        println!("cargo::error=building the Control UI assets: {e}");
        std::process::exit(1);
    }
}

fn build() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::var("OUT_DIR")?;
    let out = Path::new(&out);
    let dir = out.join("ui");
    std::fs::create_dir_all(&dir)?;
    let mut hashes: Vec<(&str, String)> = Vec::new();
    let mut inlined: Vec<(&str, String)> = Vec::new();
    let mut table = String::from("pub(crate) static ASSETS: &[Asset] = &[\n");
    for (name, mime) in FILES {
        let src = Path::new("ui").join(name);
        println!("cargo::rerun-if-changed={}", src.display());
        let mut text =
            std::fs::read_to_string(&src).map_err(|e| format!("{}: {e}", src.display()))?;
        for (dep, hash) in &hashes {
            text = text.replace(&format!("@@v:{dep}@@"), hash);
        }
        // `@@inline:<file>@@` puts a built file's text in place (the page's stylesheet, so
        // the first paint waits for no second request); its hash goes into the CSP.
        for (dep, body) in &inlined {
            let mark = format!("@@inline:{dep}@@");
            if text.contains(&mark) {
                text = text.replace(&mark, body);
                let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
                println!("cargo::rustc-env=OPENCLAW_UI_STYLE_SHA256={hash}");
            }
        }
        if let Some(at) = text.find("@@v:").or_else(|| text.find("@@inline:")) {
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            return Err(format!("{name}: unresolved {}", &text[at..end]).into());
        }
        if name.ends_with(".css") {
            inlined.push((name, text.clone()));
        }
        let bytes = text.into_bytes();
        let hash = hex(&Sha256::digest(&bytes)[..8]);
        std::fs::write(dir.join(name), &bytes)?;
        std::fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)?)?;
        std::fs::write(dir.join(format!("{name}.br")), brotli(&bytes)?)?;
        let inc = |suffix: &str| {
            format!("include_bytes!(concat!(env!(\"OUT_DIR\"), \"/ui/{name}{suffix}\"))")
        };
        writeln!(
            table,
            "    Asset {{ path: {name:?}, content_type: {mime:?}, hash: {hash:?}, raw: {}, gzip: {}, brotli: {} }},",
            inc(""),
            inc(".gz"),
            inc(".br"),
        )?;
        hashes.push((name, hash));
    }
    table.push_str("];\n");
    std::fs::write(out.join("ui_assets.rs"), table)?;
    println!("cargo::rerun-if-changed=build.rs");
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    enc.finish()
}

fn brotli(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}
