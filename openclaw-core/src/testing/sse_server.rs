//! A loopback HTTP server that replays recorded SSE byte streams, for provider tests.
