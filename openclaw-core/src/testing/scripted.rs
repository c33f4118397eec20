//! A scripted in-process [`Provider`](crate::provider::Provider) for tests: replies are queued up front.
