//! `openclaw`: the command-line entry point.

fn main() {
    println!("openclaw {}", env!("CARGO_PKG_VERSION"));
}
