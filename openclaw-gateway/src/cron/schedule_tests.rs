//! Schedule rules at fixed instants (the expected milliseconds were computed independently,
//! from the civil times in the comments).

use super::*;

fn cron(expr: &str, tz: &str) -> CronSchedule {
    CronSchedule::Cron {
        expr: expr.into(),
        tz: Some(tz.into()),
        stagger_ms: Some(0),
    }
}

/// The runs after `from` in order.
fn runs(s: &CronSchedule, from: u64, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut at = from;
    for _ in 0..n {
        at = next_run_ms(s, "job", 0, at).unwrap();
        out.push(at);
    }
    out
}

#[test]
fn a_slot_in_the_spring_dst_gap_runs_once_that_day_and_the_clock_time_after() {
    // Europe/Vienna skips 02:00–03:00 on 2026-03-29.
    let s = cron("30 2 * * *", "Europe/Vienna");
    let before = 1_774_661_400_000; // 2026-03-28T02:30+01:00, the previous day's run
    let got = runs(&s, before, 2);
    // The gap's slot runs once, at the first instant after the gap (03:00+02:00) …
    assert_eq!(got[0], 1_774_746_000_000);
    // … and the next day is 02:30 again, now in summer time.
    assert_eq!(got[1], 1_774_830_600_000); // 2026-03-30T02:30+02:00
}

#[test]
fn a_slot_in_the_repeated_autumn_hour_runs_once() {
    // 02:00–03:00 happens twice on 2026-10-25 in Vienna.
    let s = cron("30 2 * * *", "Europe/Vienna");
    let got = runs(&s, 1_792_888_200_000 - 60_000, 2);
    assert_eq!(got[0], 1_792_888_200_000); // 02:30+02:00, the first of the two
    assert_eq!(got[1], 1_792_978_200_000); // 2026-10-26T02:30+01:00, not 02:30+01:00 the same day
}

#[test]
fn a_yearly_leap_day_job_waits_for_the_next_leap_year() {
    let s = cron("0 9 29 2 *", "UTC");
    let after = 1_772_323_200_000; // 2026-03-01T00:00Z
    assert_eq!(runs(&s, after, 1), [1_835_427_600_000]); // 2028-02-29T09:00Z
}

#[test]
fn step_seven_restarts_at_each_hour() {
    let s = cron("*/7 * * * *", "UTC");
    let t1050 = 1_793_530_200_000; // 2026-11-01T10:50Z
    let min = 60_000;
    assert_eq!(
        runs(&s, t1050, 3),
        [t1050 + 6 * min, t1050 + 10 * min, t1050 + 17 * min] // 10:56, 11:00, 11:07
    );
}

#[test]
fn day_of_month_and_day_of_week_are_ored_and_plus_ands_them() {
    // "the 13th or a Friday", from 2026-11-01T00:00Z.
    let from = 1_793_491_200_000;
    let or = cron("0 12 13 * 5", "UTC");
    let got = runs(&or, from, 3);
    assert_eq!(
        got,
        [1_793_966_400_000, 1_794_571_200_000, 1_795_176_000_000] // Nov 6, 13, 20
    );
    // Friday the 13th only with `+`: Nov 13 2026 is one.
    let and = cron("0 12 13 * +5", "UTC");
    assert_eq!(runs(&and, from, 1), [1_794_571_200_000]);
    // The 13th of December 2026 is a Sunday: only OR reaches it.
    let dec12 = 1_797_076_800_000; // 2026-12-12T12:00Z
    assert_eq!(runs(&or, dec12, 1), [1_797_163_200_000]);
}

#[test]
fn six_fields_put_seconds_first_and_bad_expressions_are_refused() {
    let s = cron("30 0 12 * * *", "UTC");
    let from = 1_793_491_200_000; // 2026-11-01T00:00Z
    assert_eq!(runs(&s, from, 1), [from + 12 * 3_600_000 + 30_000]);
    for bad in ["* * * *", "61 * * * *", "nonsense"] {
        let err = validate(&cron(bad, "UTC"), 0).unwrap_err();
        assert!(err.to_string().starts_with("CronPattern: "), "{bad}: {err}");
    }
    let err = validate(&cron("0 * * * *", "Mars/Olympus"), 0).unwrap_err();
    assert_eq!(err, ScheduleError::TimeZone("Mars/Olympus".into()));
}

#[test]
fn stagger_offsets_match_openclaws_formula() {
    // u32_be(sha256(id)[0..4]) mod window, as OpenClaw computes it.
    let id = "ab7bc6f6-bbef-4254-9e0e-96be90ffa854";
    assert_eq!(stagger_offset_ms(id, 300_000), 82_443);
    assert_eq!(stagger_offset_ms("job-1", 300_000), 47_897);
    assert_eq!(stagger_offset_ms("daily-summary", 300_000), 144_086);
    assert_eq!(stagger_offset_ms("daily-summary", 30_000), 24_086);
    assert_eq!(stagger_offset_ms(id, 0), 0);
    // Only recurring top-of-hour expressions get the default window.
    assert_eq!(default_stagger_ms("0 * * * *"), 300_000);
    assert_eq!(default_stagger_ms("0 */2 * * *"), 300_000);
    assert_eq!(default_stagger_ms("0 0 * * * *"), 300_000);
    assert_eq!(default_stagger_ms("0 7 * * *"), 0);
    assert_eq!(default_stagger_ms("5 * * * *"), 0);
    assert_eq!(default_stagger_ms("*/15 * * * *"), 0);
}

#[test]
fn a_staggered_job_runs_its_offset_after_each_slot() {
    let s = CronSchedule::Cron {
        expr: "0 * * * *".into(),
        tz: Some("UTC".into()),
        stagger_ms: None,
    };
    let ten = 1_793_527_200_000; // 2026-11-01T10:00Z
    let first = next_run_ms(&s, "job-1", 0, ten).unwrap();
    assert_eq!(first, ten + 47_897);
    assert_eq!(
        next_run_ms(&s, "job-1", 0, first).unwrap(),
        ten + 3_600_000 + 47_897
    );
    // `--exact` (staggerMs 0) runs on the slot.
    let exact = cron("0 * * * *", "UTC");
    assert_eq!(
        next_run_ms(&exact, "job-1", 0, ten).unwrap(),
        ten + 3_600_000
    );
}

#[test]
fn every_counts_from_its_anchor() {
    let s = CronSchedule::Every {
        every_ms: 1_000,
        anchor_ms: Some(10_500),
    };
    assert_eq!(next_run_ms(&s, "j", 0, 0).unwrap(), 10_500);
    assert_eq!(next_run_ms(&s, "j", 0, 10_500).unwrap(), 11_500);
    assert_eq!(next_run_ms(&s, "j", 0, 13_999).unwrap(), 14_500);
    // No anchor: the creation time.
    let s = CronSchedule::Every {
        every_ms: 60_000,
        anchor_ms: None,
    };
    assert_eq!(next_run_ms(&s, "j", 5_000, 5_000).unwrap(), 65_000);
    assert!(
        validate(
            &CronSchedule::Every {
                every_ms: 0,
                anchor_ms: None
            },
            0
        )
        .is_err()
    );
}

#[test]
fn at_takes_iso_times_and_relative_durations() {
    let now = 1_000_000;
    assert_eq!(parse_at("20m", now).unwrap(), now + 1_200_000);
    assert_eq!(parse_at("1h30m", now).unwrap(), now + 5_400_000);
    assert_eq!(parse_at("+45s", now).unwrap(), now + 45_000);
    assert_eq!(
        parse_at("2028-02-29T09:00:00Z", now).unwrap(),
        1_835_427_600_000
    );
    // No offset: UTC.
    assert_eq!(
        parse_at("2028-02-29T09:00:00", now).unwrap(),
        1_835_427_600_000
    );
    assert_eq!(
        parse_at("2028-02-29T10:00:00+01:00", now).unwrap(),
        1_835_427_600_000
    );
    for bad in ["tomorrow", "20x", "", "2026-02-30T00:00:00Z"] {
        assert!(parse_at(bad, now).is_err(), "{bad}");
    }
    assert_eq!(parse_duration_ms("500ms"), Some(500));
    assert_eq!(parse_duration_ms("m"), None);
}
