//! Interaction affinity: how strongly one person is tied to another, from their interactions,
//! decayed exponentially with time — the ranking maths behind @mention suggestions and
//! connections. Pure: callers decide which interactions the gate lets them use.
//!
//! Each person keeps a sorted list of [`Tie`]s, one per person they interacted with either way.
//! A tie holds two decayed sums — what the person did towards the other (`out`) and what the
//! other did towards them (`inb`) — brought up to date lazily (stored with the time they were
//! last updated), the time of their last contact, and counters for explanations. The score adds
//! a short "burst" term for very recent contact: people keep writing to whom they just wrote to
//! or heard from.

use crate::Timestamp;

/// Ranking parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AffinityParams {
    /// Half-life of an interaction's weight, in days.
    pub half_life_days: f64,
    /// Weight of an interaction received (b → a) in a's affinity to b, relative to one sent.
    pub inbound_weight: f64,
    /// Weight of the burst term.
    pub burst_weight: f64,
    /// Time constant of the burst term, in seconds.
    pub burst_seconds: f64,
    /// How far back, in days, the graph keeps what people did: the longest retention period of
    /// the purposes that read it (the engine sets it from the policy). Older ties are forgotten,
    /// and an interaction ties nobody through a part played longer ago than this before it.
    pub horizon_days: f64,
}

impl Default for AffinityParams {
    /// Tuned on the Enron recipient-prediction protocol (`basis eval mentions`): a 3-day
    /// half-life gives MRR 0.674 there, the 27 days first planned 0.637 (7 days: 0.672).
    fn default() -> Self {
        AffinityParams {
            half_life_days: 3.0,
            inbound_weight: 0.3,
            burst_weight: 6.0,
            burst_seconds: 1_800.0,
            horizon_days: 395.0,
        }
    }
}

impl AffinityParams {
    /// The decay rate per second for the half-life (at least a second long).
    pub fn decay_per_second(&self) -> f64 {
        std::f64::consts::LN_2 / (self.half_life_days * 86_400.0).max(1.0)
    }

    /// The oldest time the graph keeps what people did from, seen from `at`.
    pub fn horizon_before(&self, at: Timestamp) -> Timestamp {
        // Not a number keeps everything rather than forgetting it.
        let days = if self.horizon_days.is_nan() {
            1e6
        } else {
            self.horizon_days.clamp(0.0, 1e6)
        };
        at.plus_millis(-((days * 86_400_000.0) as i64))
    }

    /// What an interaction's weight has decayed to `seconds` later (1.0 at 0).
    pub fn weight_after(&self, seconds: f64) -> f64 {
        (-self.decay_per_second() * seconds).exp()
    }
}

/// Kinds of interaction, each with its own weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interaction {
    /// `a` @mentioned `b`.
    Mention,
    /// `a` wrote to `b` directly (a direct message, an e-mail).
    Message,
    /// `a` commented on content `b` wrote.
    Comment,
    /// `a` assigned a task to `b`.
    Assignment,
    /// `a` edited content `b` also wrote.
    CoEdit,
    /// `a` added `b` to a space, board, project or channel.
    Membership,
}

impl Interaction {
    /// Default weight relative to a mention.
    pub fn weight(self) -> f64 {
        match self {
            Interaction::Mention | Interaction::Message => 1.0,
            Interaction::Assignment => 0.8,
            Interaction::Comment => 0.7,
            Interaction::CoEdit => 0.5,
            Interaction::Membership => 0.3,
        }
    }
}

/// Weeks of mention counts a tie keeps for "lately" reasons: the current week and the four
/// before it, so "since" a Monday 28 to 34 days back.
pub const RECENT_WEEKS: usize = 5;

const WEEK_S: u32 = 7 * 86_400;

/// The week (Monday 00:00 UTC to the next) holding second `at`; 1970-01-05 was a Monday.
fn week_of(at: u32) -> u16 {
    u16::try_from((u64::from(at) + 3 * 86_400) / u64::from(WEEK_S)).unwrap_or(u16::MAX)
}

/// The second week `week` starts.
fn week_start(week: u16) -> u32 {
    (u32::from(week) * WEEK_S).saturating_sub(3 * 86_400)
}

/// Mentions either way per week, newest first: `[0]` is week `week`, `[k]` the week `k` before.
/// Counts saturate at 255 a week.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
struct Weekly {
    week: u16,
    out: [u8; RECENT_WEEKS],
    inb: [u8; RECENT_WEEKS],
}

impl Weekly {
    /// Moves the newest week forward to `week`, dropping weeks that fall out.
    fn advance(&mut self, week: u16) {
        let d = week.saturating_sub(self.week) as usize;
        if d == 0 {
            return;
        }
        for counts in [&mut self.out, &mut self.inb] {
            if d >= RECENT_WEEKS {
                *counts = [0; RECENT_WEEKS];
            } else {
                counts.copy_within(..RECENT_WEEKS - d, d);
                counts[..d].fill(0);
            }
        }
        self.week = week;
    }

    /// Counts `n` mentions at second `at` (one side); older than the kept weeks, nothing.
    fn add(&mut self, at: u32, outbound: bool, n: u8) {
        let week = week_of(at);
        self.advance(week);
        let k = (self.week - week) as usize;
        let counts = if outbound {
            &mut self.out
        } else {
            &mut self.inb
        };
        if let Some(c) = counts.get_mut(k) {
            *c = c.saturating_add(n);
        }
    }

    /// Mentions (out, in) in `now`'s week and the four before it (none counted after `now`'s
    /// week, should the newest kept week be later).
    fn totals(&self, now: u32) -> (u32, u32) {
        let last = week_of(now);
        let first = last.saturating_sub(RECENT_WEEKS as u16 - 1);
        let sum = |c: &[u8; RECENT_WEEKS]| -> u32 {
            c.iter()
                .enumerate()
                .filter(|(k, _)| {
                    let week = i32::from(self.week) - *k as i32;
                    (i32::from(first)..=i32::from(last)).contains(&week)
                })
                .map(|(_, n)| u32::from(*n))
                .sum()
        };
        (sum(&self.out), sum(&self.inb))
    }
}

/// Mentions either way in the weeks a tie keeps, and the Monday they are counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentMentions {
    /// From this person to the other.
    pub out: u32,
    /// From the other person to this one.
    pub inb: u32,
    /// Start of the oldest week counted (00:00 UTC on a Monday).
    pub since: Timestamp,
}

/// One person's tie to another.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tie {
    /// The other person.
    pub to: u32,
    out: f32,
    inb: f32,
    updated: u32,
    last: u32,
    weekly: Weekly,
}

// A tie is the unit of the graph's memory: 32 bytes, held to by the build.
const _: () = assert!(std::mem::size_of::<Tie>() == 32);

impl Tie {
    /// Brings the sums up to the later of their time and `at`, and returns the factor an amount
    /// stamped `at` takes to join them: out-of-order amounts enter already decayed.
    fn align(&mut self, at: u32, lambda_per_s: f64) -> f64 {
        if at >= self.updated {
            let keep = (-lambda_per_s * f64::from(at - self.updated)).exp();
            self.out = (f64::from(self.out) * keep) as f32;
            self.inb = (f64::from(self.inb) * keep) as f32;
            self.updated = at;
            1.0
        } else {
            (-lambda_per_s * f64::from(self.updated - at)).exp()
        }
    }

    /// Last contact either way.
    pub fn last_contact(&self) -> Timestamp {
        Timestamp::from_compact_secs(self.last)
    }

    /// Mentions either way from the Monday [`RECENT_WEEKS`]` - 1` weeks before `now`'s week.
    pub fn recent_mentions(&self, now: Timestamp) -> RecentMentions {
        let now = now.compact_secs();
        let (out, inb) = self.weekly.totals(now);
        let first_week = week_of(now).saturating_sub(RECENT_WEEKS as u16 - 1);
        RecentMentions {
            out,
            inb,
            since: Timestamp::from_compact_secs(week_start(first_week)),
        }
    }
}

/// Directed affinities between people identified by dense indices.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AffinityGraph {
    params: AffinityParams,
    /// Derived from `params`; not written (recomputed by [`AffinityGraph::loaded`]).
    #[serde(skip)]
    lambda_per_s: f64,
    ties: Vec<Vec<Tie>>,
    len: usize,
}

/// The decay rate per second for a half-life.
impl AffinityGraph {
    /// After deserializing: recomputes what is derived from the parameters rather than stored,
    /// and checks every tie points at one of `people` and lists are sorted.
    ///
    /// # Errors
    /// A description of the first inconsistency.
    pub fn loaded(&mut self, people: usize) -> Result<(), String> {
        self.lambda_per_s = self.params.decay_per_second();
        if self.ties.len() > people {
            return Err(format!("ties for {} of {people} people", self.ties.len()));
        }
        let mut len = 0;
        for list in &self.ties {
            if list.iter().any(|t| t.to as usize >= people)
                || list.windows(2).any(|w| w[0].to >= w[1].to)
            {
                return Err("a tie to nobody, or out of order".into());
            }
            len += list.len();
        }
        if len != self.len {
            return Err(format!("{len} ties counted as {}", self.len));
        }
        Ok(())
    }

    /// An empty graph.
    pub fn new(params: AffinityParams) -> Self {
        AffinityGraph {
            params,
            lambda_per_s: params.decay_per_second(),
            ties: Vec::new(),
            len: 0,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &AffinityParams {
        &self.params
    }

    fn factor(&self, from: u32, to: u32) -> f64 {
        let dt = f64::from(to.saturating_sub(from));
        (-self.lambda_per_s * dt).exp()
    }

    fn tie_mut(&mut self, a: u32, b: u32, at: u32) -> &mut Tie {
        let a = a as usize;
        if self.ties.len() <= a {
            self.ties.resize_with(a + 1, Vec::new);
        }
        let list = &mut self.ties[a];
        let i = match list.binary_search_by_key(&b, |t| t.to) {
            Ok(i) => i,
            Err(i) => {
                list.insert(
                    i,
                    Tie {
                        to: b,
                        out: 0.0,
                        inb: 0.0,
                        updated: at,
                        last: at,
                        weekly: Weekly {
                            week: week_of(at),
                            ..Weekly::default()
                        },
                    },
                );
                self.len += 1;
                i
            }
        };
        &mut self.ties[a][i]
    }

    /// Adds `weight` at time `at` to one side of `a`'s tie to `b`.
    fn add(&mut self, a: u32, b: u32, at: u32, weight: f64, outbound: bool, mention: bool) {
        let lambda = self.lambda_per_s;
        let tie = self.tie_mut(a, b, at);
        let add = weight * tie.align(at, lambda);
        if outbound {
            tie.out += add as f32;
            if mention {
                tie.weekly.add(at, true, 1);
            }
        } else {
            tie.inb += add as f32;
            if mention {
                tie.weekly.add(at, false, 1);
            }
        }
        tie.last = tie.last.max(at);
    }

    /// `from` interacted with `to` at `at`, with the default weight of `kind`.
    pub fn record(&mut self, from: u32, to: u32, at: Timestamp, kind: Interaction) {
        self.record_weighted(from, to, at, kind.weight(), kind == Interaction::Mention);
    }

    /// `from` interacted with `to` at `at` with weight `weight`.
    pub fn record_weighted(
        &mut self,
        from: u32,
        to: u32,
        at: Timestamp,
        weight: f64,
        mention: bool,
    ) {
        if from == to {
            return;
        }
        let at = at.compact_secs();
        self.add(from, to, at, weight, true, mention);
        self.add(to, from, at, weight, false, mention);
    }

    /// `a`'s tie to `b`, if any.
    pub fn tie(&self, a: u32, b: u32) -> Option<&Tie> {
        let list = self.ties.get(a as usize)?;
        list.binary_search_by_key(&b, |t| t.to)
            .ok()
            .map(|i| &list[i])
    }

    /// Everyone `a` has a tie to.
    pub fn ties(&self, a: u32) -> &[Tie] {
        self.ties.get(a as usize).map_or(&[], Vec::as_slice)
    }

    /// The score of a tie at `now`: decayed sums (received interactions weighted down) plus
    /// the burst term.
    pub fn tie_score(&self, tie: &Tie, now: Timestamp) -> f64 {
        let now = now.compact_secs();
        let decayed = (f64::from(tie.out) + self.params.inbound_weight * f64::from(tie.inb))
            * self.factor(tie.updated, now);
        let since = f64::from(now.saturating_sub(tie.last));
        decayed + self.params.burst_weight * (-since / self.params.burst_seconds).exp()
    }

    /// `a`'s affinity to `b` at `now` (0 without a tie).
    pub fn score(&self, a: u32, b: u32, now: Timestamp) -> f64 {
        self.tie(a, b).map_or(0.0, |t| self.tie_score(t, now))
    }

    /// Candidates ordered by `a`'s affinity at `now`, highest first (ties by index).
    pub fn rank(&self, a: u32, candidates: &[u32], now: Timestamp) -> Vec<(u32, f64)> {
        let mut scored: Vec<(u32, f64)> = candidates
            .iter()
            .filter(|c| **c != a)
            .map(|c| (*c, self.score(a, *c, now)))
            .collect();
        scored.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        scored
    }

    /// Forgets every tie of `a`, both ways (erasure).
    pub fn remove(&mut self, a: u32) {
        let Some(list) = self.ties.get_mut(a as usize).map(std::mem::take) else {
            return;
        };
        self.len -= list.len();
        for tie in list {
            if let Some(other) = self.ties.get_mut(tie.to as usize)
                && let Ok(i) = other.binary_search_by_key(&a, |t| t.to)
            {
                other.remove(i);
                self.len -= 1;
            }
        }
    }

    /// Moves `from`'s ties onto `to` (a stub identity claimed by a person), summing where both
    /// had a tie to the same person.
    pub fn merge(&mut self, from: u32, to: u32) {
        if from == to {
            return;
        }
        let moved = self.ties.get(from as usize).cloned().unwrap_or_default();
        self.remove(from);
        for tie in moved {
            if tie.to == to {
                continue;
            }
            for (a, b, outbound) in [(to, tie.to, true), (tie.to, to, false)] {
                let (w_this, w_other) = if outbound {
                    (tie.out, tie.inb)
                } else {
                    (tie.inb, tie.out)
                };
                let lambda = self.lambda_per_s;
                let target = self.tie_mut(a, b, tie.updated);
                let bring = target.align(tie.updated, lambda);
                target.out += (f64::from(w_this) * bring) as f32;
                target.inb += (f64::from(w_other) * bring) as f32;
                target.last = target.last.max(tie.last);
                for k in 0..RECENT_WEEKS {
                    let at = week_start(tie.weekly.week.saturating_sub(k as u16));
                    let (mine, theirs) = if outbound {
                        (tie.weekly.out[k], tie.weekly.inb[k])
                    } else {
                        (tie.weekly.inb[k], tie.weekly.out[k])
                    };
                    target.weekly.add(at, true, mine);
                    target.weekly.add(at, false, theirs);
                }
            }
        }
    }

    /// Forgets every tie whose last contact either way is before `cutoff` (both sides: they
    /// share it); how many ties went. A retention sweep: what no purpose may use any more is
    /// not kept either.
    pub fn forget_before(&mut self, cutoff: Timestamp) -> usize {
        self.forget_some_before(cutoff, 0, usize::MAX).0
    }

    /// [`AffinityGraph::forget_before`] over the people from index `from`, stopping once about
    /// `budget` ties were looked at: how many went, and the index to go on from (past the last
    /// person when done). Between two calls a pair may have lost one side only; both are past
    /// the cutoff, which reads bounded by a retention period leave out anyway.
    pub fn forget_some_before(
        &mut self,
        cutoff: Timestamp,
        from: usize,
        budget: usize,
    ) -> (usize, usize) {
        let (cutoff, budget) = (cutoff.compact_secs(), budget.max(1));
        let before = self.len;
        let mut looked = 0usize;
        let mut next = from;
        for list in self.ties.iter_mut().skip(from) {
            if looked >= budget {
                break;
            }
            next += 1;
            looked += list.len().max(1);
            let held = list.len();
            list.retain(|t| t.last >= cutoff);
            if list.len() != held {
                self.len -= held - list.len();
                // Memory goes back once most of a list went, not on every tie.
                if list.capacity() > 2 * list.len() + 4 {
                    list.shrink_to_fit();
                }
            }
        }
        (before - self.len, next)
    }

    /// People with a list of ties (some may be empty): where [`AffinityGraph::forget_some_before`]
    /// is done.
    pub fn people(&self) -> usize {
        self.ties.len()
    }

    /// Ties held (each pair that interacted holds two, one per side).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no tie is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory the ties take (allocated capacity).
    pub fn heap_bytes(&self) -> usize {
        self.ties.capacity() * std::mem::size_of::<Vec<Tie>>()
            + self
                .ties
                .iter()
                .map(|l| l.capacity() * std::mem::size_of::<Tie>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn graph() -> AffinityGraph {
        AffinityGraph::new(AffinityParams {
            burst_weight: 0.0,
            ..AffinityParams::default()
        })
    }

    #[test]
    fn weight_halves_every_half_life() {
        let mut g = graph();
        g.record(1, 2, Timestamp(0), Interaction::Mention);
        assert!((g.score(1, 2, Timestamp(0)) - 1.0).abs() < 1e-6);
        assert!((g.score(1, 2, Timestamp(3 * DAY)) - 0.5).abs() < 1e-6);
        assert!((g.score(1, 2, Timestamp(6 * DAY)) - 0.25).abs() < 1e-6);
    }

    #[test]
    fn out_of_order_interactions_enter_decayed() {
        let mut g = graph();
        g.record(1, 2, Timestamp(3 * DAY), Interaction::Mention);
        g.record(1, 2, Timestamp(0), Interaction::Mention);
        assert!((g.score(1, 2, Timestamp(3 * DAY)) - 1.5).abs() < 1e-6);
    }

    #[test]
    fn types_weigh_differently() {
        let mut g = graph();
        g.record(1, 2, Timestamp(0), Interaction::Mention);
        g.record(1, 3, Timestamp(0), Interaction::Comment);
        g.record(1, 4, Timestamp(0), Interaction::Membership);
        let ranked: Vec<u32> = g
            .rank(1, &[4, 3, 2], Timestamp(0))
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(ranked, vec![2, 3, 4]);
        assert!((g.score(1, 3, Timestamp(0)) - 0.7).abs() < 1e-6);
    }

    #[test]
    fn inbound_counts_less_and_self_loops_not_at_all() {
        let mut g = graph();
        g.record(1, 2, Timestamp(0), Interaction::Mention);
        g.record(3, 3, Timestamp(0), Interaction::Mention);
        assert!((g.score(2, 1, Timestamp(0)) - 0.3).abs() < 1e-6);
        assert_eq!(g.len(), 2);
        let recent = g.tie(2, 1).unwrap().recent_mentions(Timestamp(0));
        assert_eq!((recent.out, recent.inb), (0, 1));
    }

    #[test]
    fn recent_beats_frequent_long_ago_and_bursts_lead() {
        let mut g = AffinityGraph::new(AffinityParams::default());
        for d in 0..10 {
            g.record(1, 2, Timestamp(d * 3_600_000), Interaction::Mention);
        }
        g.record(1, 3, Timestamp(20 * DAY), Interaction::Mention);
        let now = Timestamp(20 * DAY + 60_000);
        let ranked: Vec<u32> = g
            .rank(1, &[2, 3, 4], now)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(ranked, vec![3, 2, 4]);
    }

    #[test]
    fn remove_forgets_both_sides_and_merge_sums() {
        let mut g = graph();
        g.record(1, 2, Timestamp(0), Interaction::Mention);
        g.record(1, 3, Timestamp(0), Interaction::Mention);
        g.record(4, 2, Timestamp(0), Interaction::Mention);
        // 4 is a stub of 1: merged, 1's tie to 2 holds both mentions.
        g.merge(4, 1);
        assert!((g.score(1, 2, Timestamp(0)) - 2.0).abs() < 1e-6);
        assert!((g.score(2, 1, Timestamp(0)) - 0.6).abs() < 1e-6);
        assert_eq!(g.ties(4).len(), 0);
        assert_eq!(g.tie(1, 2).unwrap().recent_mentions(Timestamp(DAY)).out, 2);
        let recent = g.tie(2, 1).unwrap().recent_mentions(Timestamp(DAY));
        assert_eq!((recent.out, recent.inb), (0, 2));
        g.remove(1);
        assert_eq!(g.score(2, 1, Timestamp(0)), 0.0);
        assert!(g.ties(3).is_empty());
        assert_eq!(g.len(), 0);
    }

    #[test]
    fn a_sweep_forgets_both_sides_of_ties_last_touched_before_the_cutoff() {
        let mut g = graph();
        g.record(1, 2, Timestamp(0), Interaction::Mention);
        g.record(1, 3, Timestamp(10 * DAY), Interaction::Mention);
        g.record(3, 1, Timestamp(2 * DAY), Interaction::Comment);
        g.record(4, 5, Timestamp(10 * DAY - 1_000), Interaction::Mention);
        assert_eq!(g.forget_before(Timestamp(10 * DAY)), 4);
        assert!(g.tie(1, 2).is_none() && g.tie(2, 1).is_none() && g.ties(4).is_empty());
        // A tie touched at the cutoff stays, both sides.
        assert!(g.tie(1, 3).is_some() && g.tie(3, 1).is_some());
        assert_eq!(g.len(), 2);
        assert_eq!(g.forget_before(Timestamp(10 * DAY)), 0);
    }

    #[test]
    fn recent_mentions_count_the_last_weeks_from_a_monday() {
        let at = |s: &str| Timestamp::parse(s).unwrap();
        let mut g = graph();
        for when in [
            "2026-10-01T09:00:00Z",
            "2026-11-10T09:00:00Z",
            "2026-11-25T09:00:00Z",
            "2026-11-25T10:00:00Z",
        ] {
            g.record(2, 1, at(when), Interaction::Mention);
        }
        g.record(1, 2, at("2026-11-26T09:00:00Z"), Interaction::Mention);
        // Not a mention: no count.
        g.record(1, 2, at("2026-11-27T09:00:00Z"), Interaction::Comment);
        // Out of order, still within the weeks kept.
        g.record(2, 1, at("2026-11-03T09:00:00Z"), Interaction::Mention);
        let tie = *g.tie(1, 2).unwrap();
        let recent = tie.recent_mentions(at("2026-12-01T12:00:00Z"));
        assert_eq!((recent.out, recent.inb), (1, 4));
        assert_eq!(recent.since, at("2026-11-02T00:00:00Z"));
        // Asked about a time before the newest mentions: those are not counted, the earlier
        // ones in the window still are.
        let before = tie.recent_mentions(at("2026-11-20T12:00:00Z"));
        assert_eq!((before.out, before.inb), (0, 2));
        assert_eq!(before.since, at("2026-10-19T00:00:00Z"));
        // Four weeks on, only the last week of November is still counted.
        let later = tie.recent_mentions(at("2026-12-22T00:00:00Z"));
        assert_eq!((later.out, later.inb), (1, 2));
        assert_eq!(later.since, at("2026-11-23T00:00:00Z"));
        let gone = tie.recent_mentions(at("2027-02-01T00:00:00Z"));
        assert_eq!((gone.out, gone.inb), (0, 0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// The weekly counts, through any order of mentions either way and a stub merge, equal
        /// counting every mention since the window's Monday.
        #[test]
        fn recent_mentions_equal_a_plain_count(
            mentions in proptest::collection::vec((0i64..80 * 86_400, proptest::bool::ANY, proptest::bool::ANY), 0..60),
            later in 0i64..40 * 86_400,
        ) {
            let base = 1_780_000_000i64; // 2026-05-28
            let mut g = graph();
            // Person 3 is a stub of person 1, merged at the end.
            for (offset, outbound, via_stub) in &mentions {
                let one = if *via_stub { 3 } else { 1 };
                let at = Timestamp((base + offset) * 1_000);
                if *outbound {
                    g.record(one, 2, at, Interaction::Mention);
                } else {
                    g.record(2, one, at, Interaction::Mention);
                }
            }
            g.merge(3, 1);
            let newest = mentions.iter().map(|m| m.0).max().unwrap_or(0);
            let now = Timestamp((base + newest + later) * 1_000);
            let Some(tie) = g.tie(1, 2).copied() else {
                proptest::prop_assert!(mentions.is_empty());
                return Ok(());
            };
            let recent = tie.recent_mentions(now);
            let since = recent.since.0 / 1_000;
            proptest::prop_assert!(since <= now.0 / 1_000 && now.0 / 1_000 - since < 35 * 86_400);
            proptest::prop_assert!(now.0 / 1_000 - since >= 28 * 86_400);
            let count = |out: bool| {
                mentions
                    .iter()
                    .filter(|m| m.1 == out && base + m.0 >= since)
                    .count() as u32
            };
            proptest::prop_assert_eq!((recent.out, recent.inb), (count(true), count(false)));
        }
    }
}
