//! When a job runs: pure functions over a [`CronSchedule`] and a time in milliseconds, no clock
//! and no I/O, so every rule is tested with fixed instants.
//!
//! - `at`: an ISO 8601 time (an offset-less one is UTC, as OpenClaw reads it) or a relative
//!   duration such as `20m` counted from the time it is given;
//! - `every`: `anchorMs + k × everyMs` (the anchor is the creation time when absent);
//! - `cron`: 5 or 6 fields (seconds first), parsed by `croner`, the Rust port of the parser
//!   OpenClaw uses: day-of-month and day-of-week are OR-ed when both are restricted (Vixie), `+`
//!   on day-of-week makes them AND; evaluated in the IANA zone `tz` (the host's when absent)
//!   with jiff, so a slot in a DST gap runs once after it and a slot in a repeated hour once;
//! - stagger: a recurring top-of-hour expression gets a default window of 5 minutes, and each
//!   job runs `u32_be(sha256(jobId)[0..4]) mod staggerMs` after its slot — the same offsets
//!   OpenClaw computes for the same ids.

use std::str::FromStr;

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use openclaw_core::protocol::cron::CronSchedule;
use sha2::{Digest, Sha256};

/// OpenClaw's `DEFAULT_TOP_OF_HOUR_STAGGER_MS`.
pub const DEFAULT_TOP_OF_HOUR_STAGGER_MS: u64 = 300_000;

/// Why a schedule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("CronPattern: {0}")]
    Pattern(String),
    #[error("invalid timezone {0:?}")]
    TimeZone(String),
    #[error("invalid at time {0:?}: use an ISO 8601 time or a duration such as 20m")]
    At(String),
    #[error("everyMs must be at least 1")]
    Every,
    #[error("no next run can be computed: {0}")]
    NoNext(String),
}

/// Parses a cron expression as OpenClaw does (5 or 6 fields, seconds optional first).
pub fn parse_cron(expr: &str) -> Result<Cron, ScheduleError> {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expr)
        .map_err(|e| ScheduleError::Pattern(e.to_string()))
}

/// The zone `tz` names (the host's zone when `None`).
pub fn zone(tz: Option<&str>) -> Result<TimeZone, ScheduleError> {
    match tz {
        None => Ok(TimeZone::system()),
        Some(name) => TimeZone::get(name).map_err(|_| ScheduleError::TimeZone(name.to_owned())),
    }
}

/// A duration such as `20m`, `1h30m`, `45s`, `2d` or `500ms`, in milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let t = text.trim().trim_start_matches('+');
    if t.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let per = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(per)?)?;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// The instant an `at` value names: an ISO time (with an offset or `Z`; without one, UTC; a
/// bare date is its midnight UTC) or a duration from `now_ms`.
pub fn parse_at(at: &str, now_ms: u64) -> Result<u64, ScheduleError> {
    let bad = || ScheduleError::At(at.to_owned());
    let text = at.trim();
    if let Some(d) = parse_duration_ms(text) {
        return now_ms.checked_add(d).ok_or_else(bad);
    }
    let ts = if let Ok(ts) = Timestamp::from_str(text) {
        ts
    } else if let Ok(dt) = jiff::civil::DateTime::from_str(text) {
        dt.to_zoned(TimeZone::UTC).map_err(|_| bad())?.timestamp()
    } else if let Ok(d) = jiff::civil::Date::from_str(text) {
        d.to_zoned(TimeZone::UTC).map_err(|_| bad())?.timestamp()
    } else {
        return Err(bad());
    };
    u64::try_from(ts.as_millisecond()).map_err(|_| bad())
}

/// The stagger window OpenClaw gives `expr` when the job sets none: 5 minutes for recurring
/// top-of-hour expressions (minute `0` with a wildcard or stepped hour; with seconds, `0 0 *`
/// and the like), otherwise none.
pub fn default_stagger_ms(expr: &str) -> u64 {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let recurring_hour = |h: &str| h == "*" || h.contains('/');
    let top = match fields.as_slice() {
        [min, hour, _, _, _] => *min == "0" && recurring_hour(hour),
        [sec, min, hour, _, _, _] => *sec == "0" && *min == "0" && recurring_hour(hour),
        _ => false,
    };
    if top {
        DEFAULT_TOP_OF_HOUR_STAGGER_MS
    } else {
        0
    }
}

/// The job's offset inside a stagger window: `u32_be(sha256(jobId)[0..4]) mod staggerMs`.
pub fn stagger_offset_ms(job_id: &str, stagger_ms: u64) -> u64 {
    if stagger_ms == 0 {
        return 0;
    }
    let digest = Sha256::digest(job_id.as_bytes());
    let head = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    u64::from(head) % stagger_ms
}

/// The window a cron schedule staggers in (`staggerMs`, else the default for its expression).
pub fn effective_stagger_ms(expr: &str, stagger_ms: Option<u64>) -> u64 {
    stagger_ms.unwrap_or_else(|| default_stagger_ms(expr))
}

/// Checks a schedule without computing a time (what `cron.add` / `cron.update` refuse).
pub fn validate(schedule: &CronSchedule, now_ms: u64) -> Result<(), ScheduleError> {
    match schedule {
        CronSchedule::At { at } => parse_at(at, now_ms).map(drop),
        CronSchedule::Every { every_ms, .. } if *every_ms == 0 => Err(ScheduleError::Every),
        CronSchedule::Every { .. } => Ok(()),
        CronSchedule::Cron { expr, tz, .. } => {
            parse_cron(expr)?;
            zone(tz.as_deref()).map(drop)
        }
    }
}

/// The first run strictly after `after_ms` of a recurring schedule, or an `at` job's time
/// (whatever `after_ms` is: a one-shot that has not run is due at its time). `created_ms` is
/// the default `every` anchor.
pub fn next_run_ms(
    schedule: &CronSchedule,
    job_id: &str,
    created_ms: u64,
    after_ms: u64,
) -> Result<u64, ScheduleError> {
    match schedule {
        CronSchedule::At { at } => parse_at(at, created_ms),
        CronSchedule::Every {
            every_ms,
            anchor_ms,
        } => {
            if *every_ms == 0 {
                return Err(ScheduleError::Every);
            }
            let anchor = anchor_ms.unwrap_or(created_ms);
            if after_ms < anchor {
                return Ok(anchor);
            }
            let periods = (after_ms - anchor) / every_ms + 1;
            periods
                .checked_mul(*every_ms)
                .and_then(|d| anchor.checked_add(d))
                .ok_or_else(|| ScheduleError::NoNext("past the end of time".into()))
        }
        CronSchedule::Cron {
            expr,
            tz,
            stagger_ms,
        } => {
            let cron = parse_cron(expr)?;
            let zone = zone(tz.as_deref())?;
            let offset = stagger_offset_ms(job_id, effective_stagger_ms(expr, *stagger_ms));
            // A slot s runs at s + offset: the next run after `after` is the next slot after
            // `after - offset`.
            let from_ms = after_ms.saturating_sub(offset);
            let from = Timestamp::from_millisecond(from_ms as i64)
                .map_err(|e| ScheduleError::NoNext(e.to_string()))?;
            let start = Zoned::new(from, zone);
            let slot = cron
                .find_next_occurrence(&start, false)
                .map_err(|e| ScheduleError::NoNext(e.to_string()))?;
            let slot_ms = u64::try_from(slot.timestamp().as_millisecond())
                .map_err(|_| ScheduleError::NoNext("before 1970".into()))?;
            Ok(slot_ms + offset)
        }
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
