//! OpenClaw gateway protocol frame types (v3 and v4): envelopes, connect/hello, errors, payloads.
