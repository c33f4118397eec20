//! Recognising "the prompt is too long for the model" errors across providers, so that auto
//! compaction can react instead of treating them as ordinary failures.

use std::sync::OnceLock;

use regex::RegexSet;

fn patterns() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| {
        RegexSet::new([
            r"(?i)prompt is too long",
            r"(?i)input is too long for requested model",
            r"(?i)exceeds the context window",
            r"(?i)input token count.*exceeds the maximum",
            r"(?i)maximum prompt length is \d+",
            r"(?i)reduce the length of the messages",
            r"(?i)maximum context length is \d+ tokens",
            r"(?i)exceeds the limit of \d+",
            r"(?i)exceeds the available context size",
            r"(?i)greater than the context length",
            r"(?i)context window exceeds limit",
            r"(?i)exceeded model token limit",
            r"(?i)context[_ ]length[_ ]exceeded",
            r"(?i)too many tokens",
            r"(?i)token limit exceeded",
            r"(?i)request too large",
        ])
        .unwrap_or_else(|_| RegexSet::empty())
    })
}

/// Whether a provider error message says the context window was exceeded (the phrasings of
/// Anthropic, OpenAI, Google, xAI, Groq, OpenRouter, llama.cpp, LM Studio, Ollama, Mistral…).
pub fn is_context_overflow(message: &str) -> bool {
    let m = message.trim();
    if patterns().is_match(m) {
        return true;
    }
    // Some servers answer 400/413 with no body at all.
    let lower = m.to_ascii_lowercase();
    (lower.starts_with("400") || lower.starts_with("413"))
        && (lower.ends_with("(no body)") || lower.ends_with("status code"))
}

#[cfg(test)]
mod tests {
    use super::is_context_overflow;

    #[test]
    fn recognises_provider_phrasings() {
        for m in [
            "400 prompt is too long: 213462 tokens > 200000 maximum",
            "400 This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
            "The input token count (1196265) exceeds the maximum number of tokens allowed (1048575).",
            "400 Please reduce the length of the messages or completion.",
            "context_length_exceeded",
            "413 status code (no body)",
        ] {
            assert!(is_context_overflow(m), "{m}");
        }
        for m in [
            "529 overloaded",
            "500 internal server error",
            "Request was aborted",
        ] {
            assert!(!is_context_overflow(m), "{m}");
        }
    }
}
