//! DM pairing as OpenClaw does it: a stranger writing to the bot under `dmPolicy: "pairing"`
//! gets an 8-character code from an alphabet without look-alikes (no `0 O 1 I`), valid one
//! hour, at most three pending per channel account; the owner approves it with
//! `openclaw pairing approve <channel> <code>`, which grants DM access only.

use rand::Rng;

/// The characters of a code (OpenClaw's alphabet).
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// A code's length.
pub const CODE_LEN: usize = 8;
/// How long a request (and its code) lives.
pub const TTL_MS: u64 = 3_600_000;
/// Pending requests per channel account; more strangers are ignored until one expires.
pub const PENDING_PER_ACCOUNT: usize = 3;
/// What an approved sender is told with `--notify` (OpenClaw's text).
pub const APPROVED_TEXT: &str = "✅ OpenClaw access approved. Send a message to start chatting.";

/// A fresh random code (the OS-seeded thread RNG).
pub fn new_code() -> String {
    let mut rng = rand::thread_rng();
    (0..CODE_LEN)
        .map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())]))
        .collect()
}

/// A code as typed by a person, normalised (trimmed, upper-cased); `None` when it cannot be
/// one.
pub fn normalize_code(code: &str) -> Option<String> {
    let c = code.trim().to_ascii_uppercase();
    (c.len() == CODE_LEN && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet_and_normalise() {
        for _ in 0..200 {
            let c = new_code();
            assert_eq!(c.len(), 8);
            assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{c}");
            assert!(!c.contains(['0', 'O', '1', 'I']));
            assert_eq!(normalize_code(&c.to_lowercase()), Some(c));
        }
        assert_eq!(normalize_code("ABCDEFG0"), None);
        assert_eq!(normalize_code("ABC"), None);
    }
}
