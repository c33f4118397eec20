//! Heartbeat settings as OpenClaw reads them: `agents.defaults.heartbeat`, overridden key by
//! key by an agent's own `heartbeat` (`agents.list[]` or `agents.entries.<id>`). When any agent
//! has its own block only those agents beat; otherwise only the default agent does.
//! `every` defaults to 30 minutes, `0m` turns the cadence off (wakes still run).

use serde::Deserialize;
use serde_json::Value;

use super::checklist::DEFAULT_ACK_MAX_CHARS;
use crate::cron::schedule::parse_duration_ms;
use crate::roster::Roster;

/// OpenClaw 5.6's default heartbeat prompt.
pub const DEFAULT_PROMPT: &str = "Read HEARTBEAT.md if it exists (workspace context). Follow it \
    strictly. Do not infer or repeat old tasks from prior chats. If nothing needs attention, \
    reply HEARTBEAT_OK.";

/// The default cadence.
pub const DEFAULT_EVERY: &str = "30m";

/// One `heartbeat` block as written (unknown keys are ignored, as other readers of the file
/// validate it).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatBlock {
    pub every: Option<String>,
    pub active_hours: Option<ActiveHours>,
    pub prompt: Option<String>,
    pub target: Option<String>,
    pub to: Option<String>,
    pub account_id: Option<String>,
    pub ack_max_chars: Option<usize>,
    pub light_context: Option<bool>,
    pub isolated_session: Option<bool>,
    pub model: Option<String>,
    pub skip_when_busy: Option<bool>,
    pub timeout_seconds: Option<u64>,
}

impl HeartbeatBlock {
    /// `self` with the keys `over` sets replaced.
    fn overlay(self, over: HeartbeatBlock) -> HeartbeatBlock {
        HeartbeatBlock {
            every: over.every.or(self.every),
            active_hours: over.active_hours.or(self.active_hours),
            prompt: over.prompt.or(self.prompt),
            target: over.target.or(self.target),
            to: over.to.or(self.to),
            account_id: over.account_id.or(self.account_id),
            ack_max_chars: over.ack_max_chars.or(self.ack_max_chars),
            light_context: over.light_context.or(self.light_context),
            isolated_session: over.isolated_session.or(self.isolated_session),
            model: over.model.or(self.model),
            skip_when_busy: over.skip_when_busy.or(self.skip_when_busy),
            timeout_seconds: over.timeout_seconds.or(self.timeout_seconds),
        }
    }
}

/// `activeHours`: `start` inclusive, `end` exclusive (`24:00` allowed), in `timezone`
/// (`user` = `agents.defaults.userTimezone`, `local` or absent = the host's, or an IANA name).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActiveHours {
    pub start: String,
    pub end: String,
    pub timezone: Option<String>,
}

/// Where a beat's alert goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    None,
    Last,
    Channel(String),
}

impl Target {
    pub fn as_str(&self) -> &str {
        match self {
            Target::None => "none",
            Target::Last => "last",
            Target::Channel(c) => c,
        }
    }
}

/// One agent's effective heartbeat.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentHeartbeat {
    pub agent_id: String,
    /// As written (or the default).
    pub every: String,
    /// `None`: no cadence (`0m` or unreadable).
    pub every_ms: Option<u64>,
    pub prompt: String,
    pub target: Target,
    pub to: Option<String>,
    /// `accountId`: the channel account alerts are sent from.
    pub account_id: Option<String>,
    pub ack_max_chars: usize,
    /// `lightContext`: the beat's system prompt carries no workspace files but HEARTBEAT.md.
    pub light_context: bool,
    /// `isolatedSession`: each beat runs in a fresh session (no conversation history).
    pub isolated_session: bool,
    pub model: Option<String>,
    pub skip_when_busy: bool,
    pub timeout_seconds: Option<u64>,
    pub active_hours: Option<ActiveHours>,
    /// `agents.defaults.userTimezone` (for `activeHours.timezone: "user"`).
    pub user_timezone: Option<String>,
}

fn block(v: Option<&Value>, at: &str) -> Option<HeartbeatBlock> {
    let v = v?;
    match serde_json::from_value(v.clone()) {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!("{at}.heartbeat ignored: {e}");
            None
        }
    }
}

/// The `heartbeat` block of each configured agent (by id).
fn own_blocks(config: &Value) -> Vec<(String, Option<HeartbeatBlock>)> {
    let mut out = Vec::new();
    if let Some(list) = config.pointer("/agents/list").and_then(Value::as_array) {
        for (i, e) in list.iter().enumerate() {
            if let Some(id) = e.get("id").and_then(Value::as_str) {
                let at = format!("agents.list[{i}]");
                out.push((id.to_owned(), block(e.get("heartbeat"), &at)));
            }
        }
    }
    if let Some(map) = config.pointer("/agents/entries").and_then(Value::as_object) {
        for (id, e) in map {
            let at = format!("agents.entries.{id}");
            out.push((id.clone(), block(e.get("heartbeat"), &at)));
        }
    }
    out
}

fn defaults_of(config: &Value) -> (HeartbeatBlock, Option<String>) {
    let defaults = block(
        config.pointer("/agents/defaults/heartbeat"),
        "agents.defaults",
    )
    .unwrap_or_default();
    let user_timezone = config
        .pointer("/agents/defaults/userTimezone")
        .and_then(Value::as_str)
        .map(str::to_owned);
    (defaults, user_timezone)
}

/// The agents that beat and their effective settings.
pub fn resolve(config: &Value, roster: &Roster) -> Vec<AgentHeartbeat> {
    let own = own_blocks(config);
    let explicit = own.iter().any(|(_, b)| b.is_some());
    if !explicit {
        return vec![for_agent(config, roster.default_id())];
    }
    own.into_iter()
        .filter(|(id, b)| b.is_some() && roster.get(id).is_some())
        .map(|(id, _)| for_agent(config, &id))
        .collect()
}

/// The effective settings of `agent_id` whether it beats or not (a wake of an agent without
/// a cadence uses them).
pub fn for_agent(config: &Value, agent_id: &str) -> AgentHeartbeat {
    let (defaults, user_timezone) = defaults_of(config);
    let own = own_blocks(config)
        .into_iter()
        .find(|(id, _)| id == agent_id)
        .and_then(|(_, b)| b);
    let b = match own {
        Some(b) => defaults.overlay(b),
        None => defaults,
    };
    effective(agent_id.to_owned(), b, user_timezone)
}

fn effective(agent_id: String, b: HeartbeatBlock, user_timezone: Option<String>) -> AgentHeartbeat {
    let every = b.every.unwrap_or_else(|| DEFAULT_EVERY.to_owned());
    let every_ms = match parse_duration_ms(&every) {
        Some(0) => None,
        Some(ms) => Some(ms),
        None => {
            tracing::warn!(
                "heartbeat.every \"{every}\" of agent {agent_id} is not a duration; no cadence"
            );
            None
        }
    };
    let target = match b.target.as_deref().map(str::trim) {
        None | Some("") | Some("none") => Target::None,
        Some("last") => Target::Last,
        Some(c) => Target::Channel(c.to_owned()),
    };
    AgentHeartbeat {
        agent_id,
        every,
        every_ms,
        prompt: b
            .prompt
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_PROMPT.to_owned()),
        target,
        to: b.to,
        account_id: b.account_id,
        ack_max_chars: b.ack_max_chars.unwrap_or(DEFAULT_ACK_MAX_CHARS),
        light_context: b.light_context.unwrap_or(false),
        isolated_session: b.isolated_session.unwrap_or(false),
        model: b.model.filter(|m| !m.trim().is_empty()),
        skip_when_busy: b.skip_when_busy.unwrap_or(false),
        timeout_seconds: b.timeout_seconds,
        active_hours: b.active_hours,
        user_timezone,
    }
}

/// Minutes since midnight of `HH:MM` (`24:00` = 1440).
fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

impl AgentHeartbeat {
    /// Whether `now_ms` is inside `activeHours` (always, without them; never when they cannot
    /// be read or start equals end).
    pub fn is_active(&self, now_ms: u64) -> bool {
        let Some(h) = &self.active_hours else {
            return true;
        };
        let (Some(start), Some(end)) = (minutes(&h.start), minutes(&h.end)) else {
            tracing::warn!(
                "heartbeat.activeHours of agent {} unreadable",
                self.agent_id
            );
            return false;
        };
        let zone_name = match h.timezone.as_deref() {
            Some("user") => self.user_timezone.as_deref(),
            Some("local") | None => None,
            Some(z) => Some(z),
        };
        let zone = match zone_name {
            Some(z) => match jiff::tz::TimeZone::get(z) {
                Ok(tz) => tz,
                Err(_) => {
                    tracing::warn!("heartbeat.activeHours.timezone \"{z}\" unknown");
                    return false;
                }
            },
            None => jiff::tz::TimeZone::system(),
        };
        let Ok(ts) = jiff::Timestamp::from_millisecond(now_ms as i64) else {
            return false;
        };
        let local = ts.to_zoned(zone);
        let now = local.hour() as u32 * 60 + local.minute() as u32;
        match start.cmp(&end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => now >= start && now < end,
            std::cmp::Ordering::Greater => now >= start || now < end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roster(config: &Value) -> Roster {
        Roster::from_config(config, std::path::Path::new("/s"))
    }

    #[test]
    fn the_default_agent_beats_every_30_minutes_unless_agents_have_their_own() {
        let c = json!({"agents": {"list": [{"id": "main", "default": true}, {"id": "ops"}]}});
        let hb = resolve(&c, &roster(&c));
        assert_eq!(hb.len(), 1);
        assert_eq!(hb[0].agent_id, "main");
        assert_eq!(hb[0].every_ms, Some(1_800_000));
        assert_eq!(hb[0].prompt, DEFAULT_PROMPT);
        assert_eq!(hb[0].target, Target::None);
        assert_eq!(hb[0].ack_max_chars, 300);

        let c = json!({"agents": {"defaults": {"heartbeat": {"every": "1h", "target": "last"}},
            "list": [{"id": "main", "default": true}, {"id": "ops", "heartbeat": {"every": "0m"}}]}});
        let hb = resolve(&c, &roster(&c));
        assert_eq!(hb.len(), 1, "only agents with their own block beat");
        assert_eq!(hb[0].agent_id, "ops");
        assert_eq!(hb[0].every_ms, None, "0m: no cadence");
        assert_eq!(hb[0].target, Target::Last, "the rest from the defaults");
    }

    #[test]
    fn active_hours_are_read_in_their_zone_with_an_exclusive_end() {
        let mut hb = effective("main".into(), HeartbeatBlock::default(), None);
        // 2026-07-01T06:30:00Z is 08:30 in Vienna (summer time).
        let at = jiff::Timestamp::from_second(1_782_887_400).unwrap();
        assert_eq!(
            at.to_zoned(jiff::tz::TimeZone::get("Europe/Vienna").unwrap())
                .hour(),
            8
        );
        let ms = at.as_millisecond() as u64;
        hb.active_hours = Some(ActiveHours {
            start: "08:00".into(),
            end: "24:00".into(),
            timezone: Some("Europe/Vienna".into()),
        });
        assert!(hb.is_active(ms));
        hb.active_hours = Some(ActiveHours {
            start: "09:00".into(),
            end: "08:30".into(),
            timezone: Some("Europe/Vienna".into()),
        });
        assert!(!hb.is_active(ms), "end is exclusive");
        hb.active_hours = Some(ActiveHours {
            start: "22:00".into(),
            end: "09:00".into(),
            timezone: Some("user".into()),
        });
        hb.user_timezone = Some("Europe/Vienna".into());
        assert!(hb.is_active(ms), "wraps past midnight");
        hb.active_hours = Some(ActiveHours {
            start: "08:00".into(),
            end: "08:00".into(),
            timezone: None,
        });
        assert!(!hb.is_active(ms), "equal start and end: never");
    }
}
