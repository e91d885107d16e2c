//! Interaction affinity: how strongly one person is tied to another, from their interactions,
//! decayed exponentially with time — the ranking maths behind @mention suggestions and
//! connections. Pure: callers decide which interactions the gate lets them use.
//!
//! An edge `a → b` keeps a decayed sum of interaction weights (updated lazily: the value is
//! stored with the time it was last brought up to date) and the time of the last contact in
//! either direction. The score adds a short "burst" term for very recent contact: people keep
//! writing to whom they just wrote to or heard from.

use std::collections::HashMap;

use crate::Timestamp;

/// Ranking parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AffinityParams {
    /// Half-life of an interaction's weight, in days.
    pub half_life_days: f64,
    /// Weight of an interaction received (b → a) in a's affinity to b, relative to one sent.
    pub inbound_weight: f64,
    /// Weight of the burst term.
    pub burst_weight: f64,
    /// Time constant of the burst term, in seconds.
    pub burst_seconds: f64,
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
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Edge {
    value: f64,
    updated: Timestamp,
    last_contact: Timestamp,
}

/// Directed affinities between people identified by dense indices.
#[derive(Debug, Clone, Default)]
pub struct AffinityGraph {
    params: AffinityParams,
    lambda_per_ms: f64,
    edges: HashMap<(u32, u32), Edge>,
}

impl AffinityGraph {
    /// An empty graph.
    pub fn new(params: AffinityParams) -> Self {
        let half_life_ms = params.half_life_days * 86_400_000.0;
        AffinityGraph {
            params,
            lambda_per_ms: std::f64::consts::LN_2 / half_life_ms.max(1.0),
            edges: HashMap::new(),
        }
    }

    fn decay(&self, value: f64, from: Timestamp, to: Timestamp) -> f64 {
        let dt = (to.0 - from.0).max(0) as f64;
        value * (-self.lambda_per_ms * dt).exp()
    }

    fn add(&mut self, from: u32, to: u32, at: Timestamp, weight: f64) {
        let lambda = self.lambda_per_ms;
        let edge = self.edges.entry((from, to)).or_insert(Edge {
            value: 0.0,
            updated: at,
            last_contact: at,
        });
        let dt = (at.0 - edge.updated.0).max(0) as f64;
        edge.value = edge.value * (-lambda * dt).exp() + weight;
        edge.updated = edge.updated.max(at);
        edge.last_contact = edge.last_contact.max(at);
    }

    /// `from` interacted with `to` at `at` with weight `weight` (a mention, a comment, a message).
    pub fn record(&mut self, from: u32, to: u32, at: Timestamp, weight: f64) {
        if from == to {
            return;
        }
        self.add(from, to, at, weight);
        let inbound = weight * self.params.inbound_weight;
        self.add(to, from, at, inbound);
    }

    /// `a`'s affinity to `b` at `now`.
    pub fn score(&self, a: u32, b: u32, now: Timestamp) -> f64 {
        let Some(edge) = self.edges.get(&(a, b)) else {
            return 0.0;
        };
        let decayed = self.decay(edge.value, edge.updated, now);
        let since = (now.0 - edge.last_contact.0).max(0) as f64 / 1_000.0;
        decayed + self.params.burst_weight * (-since / self.params.burst_seconds).exp()
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

    /// Edges held.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Whether no edge is held.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
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
        g.record(1, 2, Timestamp(0), 1.0);
        assert!((g.score(1, 2, Timestamp(0)) - 1.0).abs() < 1e-9);
        assert!((g.score(1, 2, Timestamp(3 * DAY)) - 0.5).abs() < 1e-9);
        assert!((g.score(1, 2, Timestamp(6 * DAY)) - 0.25).abs() < 1e-9);
    }

    #[test]
    fn inbound_counts_less_and_self_loops_not_at_all() {
        let mut g = graph();
        g.record(1, 2, Timestamp(0), 1.0);
        g.record(3, 3, Timestamp(0), 1.0);
        assert!((g.score(2, 1, Timestamp(0)) - 0.3).abs() < 1e-9);
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn recent_beats_frequent_long_ago_and_bursts_lead() {
        let mut g = AffinityGraph::new(AffinityParams::default());
        for d in 0..10 {
            g.record(1, 2, Timestamp(d * 3_600_000), 1.0);
        }
        g.record(1, 3, Timestamp(20 * DAY), 1.0);
        let now = Timestamp(20 * DAY + 60_000);
        let ranked: Vec<u32> = g
            .rank(1, &[2, 3, 4], now)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(ranked, vec![3, 2, 4]);
    }
}
