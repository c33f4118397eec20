//! Host package for the workspace-level examples, benches and end-to-end tests.
