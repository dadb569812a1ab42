//! Fault injection rules (per route, per user, by count or probability) and the built-in rate
//! limiter.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// What a matching rule does to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 `Throttled` with `Retry-After: retry_after_secs`; the request is not applied.
    Throttle { retry_after_secs: u64 },
    /// A 5xx (or any) status with a ServiceError body; not applied.
    Status { status: u16 },
    /// Wait `ms` milliseconds, then handle normally.
    Delay { ms: u64 },
    /// Close the connection without applying or answering.
    DropBeforeApply,
    /// Apply the request fully (state changes), then close the connection without a response.
    DropAfterApply,
    /// Apply, then answer 200 with a body that is not valid JSON.
    MalformedJson,
    /// Apply, then send half of the body and abort the connection.
    TruncatedBody,
}

/// One injection rule. `route` is a route name from the request log (`None` or `"*"` = any
/// Store/Entra route); `user` matches the store user id or the key's publisher user id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(default)]
    pub route: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Fire at most this many times (then the rule is spent); `None` = unlimited.
    #[serde(default)]
    pub times: Option<u32>,
    /// Fire with this probability (seeded RNG); `None` = always.
    #[serde(default)]
    pub probability: Option<f64>,
}

impl FaultRule {
    pub fn new(route: &str, kind: FaultKind) -> FaultRule {
        FaultRule {
            route: Some(route.into()),
            user: None,
            kind,
            times: None,
            probability: None,
        }
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn for_user(mut self, user: &str) -> Self {
        self.user = Some(user.into());
        self
    }

    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<(u64, FaultRule, u32)>,
    next_id: u64,
}

impl Faults {
    pub fn add(&mut self, rule: FaultRule) -> u64 {
        self.next_id += 1;
        self.rules.push((self.next_id, rule, 0));
        self.next_id
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|(i, _, _)| *i != id);
        before != self.rules.len()
    }

    pub fn list(&self) -> Vec<(u64, FaultRule)> {
        self.rules.iter().map(|(i, r, _)| (*i, r.clone())).collect()
    }

    /// First matching live rule fires (and is counted); spent rules are dropped.
    pub fn pick(
        &mut self,
        route: &str,
        users: &[String],
        rng: &mut fastrand::Rng,
    ) -> Option<FaultKind> {
        let mut fired = None;
        for (_, rule, count) in self.rules.iter_mut() {
            if let Some(r) = &rule.route {
                if r != "*" && !r.eq_ignore_ascii_case(route) {
                    continue;
                }
            }
            if let Some(u) = &rule.user {
                if !users.iter().any(|x| x == u) {
                    continue;
                }
            }
            if rule.times.is_some_and(|t| *count >= t) {
                continue;
            }
            if let Some(p) = rule.probability {
                if rng.f64() >= p {
                    continue;
                }
            }
            *count += 1;
            fired = Some(rule.kind.clone());
            break;
        }
        self.rules
            .retain(|(_, r, c)| !matches!(r.times, Some(t) if *c >= t));
        fired
    }
}

/// Sliding-window counter per (user, route group) in virtual time.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: HashMap<String, VecDeque<Timestamp>>,
}

impl RateLimiter {
    /// `Ok` if allowed (and counted), `Err(retry_after_secs)` if over the limit.
    pub fn check(
        &mut self,
        key: &str,
        now: Timestamp,
        max: u32,
        window_secs: u64,
    ) -> Result<(), u64> {
        let q = self.windows.entry(key.to_string()).or_default();
        let window_start = now.add_secs(-(window_secs.min(i64::MAX as u64) as i64));
        while q.front().is_some_and(|t| *t <= window_start) {
            q.pop_front();
        }
        if q.len() as u64 >= u64::from(max) {
            let oldest = q.front().copied().unwrap_or(now);
            let free_at = oldest.add_secs(window_secs as i64);
            return Err(free_at.duration_since(now).as_secs().max(1));
        }
        q.push_back(now);
        Ok(())
    }

    pub fn clear(&mut self) {
        self.windows.clear();
    }
}
