//! Link settings of the `openclaw` executable. Both only shape how the executable is laid out
//! and loaded; neither changes what it does, and anything this script cannot confirm links as
//! before.
//!
//! - **Packed relocations** on glibc Linux (`DT_RELR`): about 55,000 relative relocations took
//!   1.3 MB of `.rela.dyn`, read whole by the dynamic loader at every start and kept resident.
//!   Packed, they take 16 KB. Only when building for this machine with glibc 2.36 or later,
//!   which can load such an executable.
//! - **Start-up code together**: `startup.order` lists the functions a gateway runs from start
//!   to its first clients (`benches/startup_order.sh` regenerates it), and the linker places
//!   them first. The kernel maps code 64 KiB at a time around each page touched; with those
//!   functions spread over the executable, start-up touched half of its `.text` (17 MB
//!   resident for 2.7 MB of code run). Only for release builds linked by rust-lld, the default
//!   linker of x86_64 Linux since Rust 1.90 (the option is lld's); names it does not find are
//!   ignored, so a file gone stale only loses the gain.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=startup.order");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let native = var("HOST") == var("TARGET");
    let gnu_linux = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    if native && gnu_linux && glibc_at_least(2, 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("startup.order");
    if var("PROFILE") == "release" && rust_lld_links(&var("TARGET")) && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether this machine's glibc (`getconf GNU_LIBC_VERSION`: "glibc 2.36") is at least
/// `major.minor`; false when it cannot tell.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .strip_prefix("glibc ")
        .and_then(major_minor)
        .is_some_and(|v| v >= (major, minor))
}

/// Whether the executable is linked by rust-lld: x86_64 Linux with Rust 1.90 or later, and no
/// linker or linker setting chosen by the user (`RUSTC_LINKER`, `-C linker*` flags).
fn rust_lld_links(target: &str) -> bool {
    if target != "x86_64-unknown-linux-gnu" || std::env::var_os("RUSTC_LINKER").is_some() {
        return false;
    }
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if flags.contains("linker") || flags.contains("link-self-contained") {
        return false;
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("--version").output() else {
        return false;
    };
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .and_then(major_minor)
        .is_some_and(|v| v >= (1, 90))
}

/// `(major, minor)` of a version such as "2.36" or "1.95.0-nightly".
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split(['.', '-']).map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}
