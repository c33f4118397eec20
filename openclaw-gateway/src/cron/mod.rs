//! Scheduled work (OpenClaw's cron / automations): `schedule` computes when a job runs.

pub mod schedule;
