//! Configuration: `openclaw.json` (JSON5), pi `models.json`, and the state-directory layout.
