//! The intelligence read paths over the interaction graph: @mention suggestions, connections,
//! experts, recommendations and affiliation.
//!
//! Each read works in two halves around the gate: candidates are gathered from the graph (a
//! short read lock), the gate is asked — asynchronously, through the subject cache — for each
//! person whose data would shape the answer, and the graph ranks with those answers (another
//! short read lock). A person the gate refuses still appears where the answer does not rest on
//! their data (found by name, a member of the page), never with the refused signal.

use std::collections::{HashMap, HashSet};

use basis_core::Timestamp;
use basis_core::affinity::{AffinityParams, Tie};
use basis_core::person::Person;
use basis_core::text::{self, Prefix};
use serde::Serialize;

use crate::graph::{
    AFFILIATION, CONNECTIONS, GraphState, MENTIONS, PROFILING, RECOMMENDATIONS, TenantGraph, role,
};
use crate::views::DecisionView;
use crate::{Engine, EngineError};

/// Most results any of these reads returns.
pub const MAX_LIMIT: usize = 100;
/// People matched by prefix alone considered per request (those with other signals always are).
const PREFIX_SCAN: usize = 200;
/// People taken from a context's member list (teams expanded).
const LISTED_CAP: usize = 2_000;

// Affinity counts as a share of the asker's strongest usable tie (to someone who can see the
// context, whatever the prefix), so the boosts below mean the same whether the asker wrote to
// someone an hour ago or comes back from three weeks away (every tie decays
// alike, and absolute weights would shrink under them). Signals add up: a tie's share plus a
// boost can pass a participant.
// The participant weight was chosen on the Enron recipient data with the thread as the context,
// on a validation slice inside the training part (messages 60-80%; bench/studies): 0.93-0.99
// all within 0.0002 there, 1.0 and above 0.006 lower, 0.5 0.008 lower. The same script shows a
// shared department adding nothing at any weight, so team and organization are kept small:
// they order people with weak or no ties. Their values, and the container member's, were not
// measured on data (the Enron data has no teams, domains or containers).

/// Boost for someone who took part in the context: just below the strongest tie.
const CONTEXT_PARTICIPANT: f64 = 0.95;
/// Boost for a member of the context's container (not measured on data).
const CONTAINER_MEMBER: f64 = 0.5;
/// Boost for sharing a team (not measured on data).
const SAME_TEAM: f64 = 0.05;
/// Boost for the same e-mail organization (not measured on data).
pub const SAME_ORGANIZATION: f64 = 0.02;
/// Orders otherwise equal people: the prefix matches the first name.
const NAME_MATCH: f64 = 0.005;
/// The asker's strongest ties, whatever the prefix, that set the scale: asked about at the gate
/// with the candidates, so typing more letters does not change what a tie's share is of.
pub const SCALE_TIES: usize = 4;
/// The most of them asked about when the gate refuses the strongest (4, then 16, 64, 256).
const MAX_SCALE_TIES: usize = 256;

/// What a tie's share is of: the strongest tie, but no less than one interaction a month old, so
/// a faded strongest tie is not stretched to full strength (ten months of silence do not make it
/// rank like yesterday's).
fn scale(strongest: f64, params: &AffinityParams) -> f64 {
    let month_old = params.weight_after(30.0 * 86_400.0);
    // Never zero, whatever the half-life: a share is always a number.
    strongest.max(month_old).max(f64::MIN_POSITIVE)
}

/// The asker's strongest ties at `now` (up to `count`, [`SCALE_TIES`] first) to people who are
/// active, can see the context and had a contact since `since`, whatever the prefix: with the
/// prefix's own ties, whom the gate is asked about, and what a tie's share is of. None for a
/// prefix without words, whose candidates hold every tie already.
pub fn scale_ties(
    g: &TenantGraph,
    asker: u32,
    q: &MentionQuery,
    since: Timestamp,
    now: Timestamp,
    count: usize,
) -> Vec<u32> {
    if Prefix::words(&q.prefix).is_empty() {
        return Vec::new();
    }
    let target = Context::target(g, asker, q.context.as_deref());
    let sees = |i: u32| {
        target
            .as_ref()
            .is_none_or(|(o, c)| sees(g, *o, c.as_deref(), i))
    };
    // One pass keeping the best few, strongest first: no allocation per tie, no sort.
    let mut best: Vec<(f64, u32)> = Vec::with_capacity(count + 1);
    for t in g.affinity.ties(asker) {
        if t.last_contact() < since {
            continue;
        }
        let score = g.affinity.tie_score(t, now);
        if best.len() == count && best.last().is_some_and(|w| w.0 >= score) {
            continue;
        }
        if !active(g, t.to) || !sees(t.to) {
            continue;
        }
        let at = best.partition_point(|b| b.0 >= score);
        best.insert(at, (score, t.to));
        best.truncate(count);
    }
    best.into_iter().map(|(_, i)| i).collect()
}

/// Why an item ranks where it does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// `affinity`, `context_participant`, `container_member`, `team`, `organization`, `name`.
    pub signal: &'static str,
    /// What it added to the score.
    pub score: f64,
    /// In words.
    pub detail: String,
}

/// A person suggested for an @mention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MentionSuggestion {
    /// Person id.
    pub person: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Ranking score.
    pub score: f64,
    /// Whether they can see the context (false only when invitees were asked for).
    pub can_see_context: bool,
    /// What placed them here.
    pub signals: Vec<Signal>,
    /// The tie behind the affinity signal, explained once the list is final.
    #[serde(skip)]
    tie: Option<Tie>,
    /// Whether their e-mail organization is the writer's (a signal only once the gate allows
    /// affiliation for both).
    #[serde(skip)]
    same_org: bool,
}

impl MentionSuggestion {
    /// Whether the person's e-mail organization is the writer's; not yet a signal.
    pub fn same_organization(&self) -> bool {
        self.same_org
    }
}

/// Writes the affinity signal's explanation for the suggestions that made the list (done last,
/// so only what is returned is explained).
pub fn explain(suggestions: &mut [MentionSuggestion], now: Timestamp) {
    for s in suggestions {
        if let Some(tie) = s.tie.take()
            && let Some(signal) = s.signals.iter_mut().find(|x| x.signal == "affinity")
        {
            signal.detail = tie_reasons(&tie, now).join("; ");
        }
    }
}

/// `GET /v1/people/{id}/mention-suggestions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MentionSuggestionsView {
    /// The person writing.
    pub person: String,
    /// Whether interactions shaped the ranking.
    pub personalized: bool,
    /// The gate's answer for the writer and `functional.service.improve.mentions`.
    pub decision: DecisionView,
    /// Why the ranking is not personalized, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Whether a context was given that the writer can see (an unknown or hidden one is
    /// ignored alike).
    pub context_used: bool,
    /// The suggestions, best first.
    pub suggestions: Vec<MentionSuggestion>,
}

/// A mention-suggestion request.
#[derive(Debug, Clone, Default)]
pub struct MentionQuery {
    /// What the writer typed after `@` (may be empty).
    pub prefix: String,
    /// The page, ticket, card, channel or container being written in.
    pub context: Option<String>,
    /// Most suggestions.
    pub limit: usize,
    /// Also return people who cannot see the context (flagged), for "invite".
    pub include_invitees: bool,
}

/// A person you work with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    /// Person id.
    pub person: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Ranking score.
    pub score: f64,
    /// Why, in words.
    pub reasons: Vec<String>,
}

/// `GET /v1/people/{id}/connections`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionsView {
    /// The person.
    pub person: String,
    /// Whether interactions shaped the list.
    pub personalized: bool,
    /// The gate's answer for `personalize.content.connections`.
    pub decision: DecisionView,
    /// Best first.
    pub connections: Vec<Connection>,
}

/// A document behind an expert or a recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentRef {
    /// Object id.
    pub id: String,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Someone with subject-matter expertise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expert {
    /// Person id.
    pub person: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Job title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Ranking score.
    pub score: f64,
    /// Their part in the most relevant documents the asker can see.
    pub evidence: Vec<ExpertEvidence>,
}

/// One document and an expert's part in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpertEvidence {
    /// The document.
    pub document: DocumentRef,
    /// `created`, `edited`, `commented`, `assigned`, `mentioned`, `viewed`.
    pub roles: Vec<&'static str>,
}

/// `GET /v1/experts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpertsView {
    /// The topic.
    pub topic: String,
    /// Who asked (results respect what they may see).
    #[serde(rename = "as")]
    pub asker: String,
    /// Documents about the topic the asker can see.
    pub documents_considered: usize,
    /// Best first.
    pub experts: Vec<Expert>,
}

/// Content recommended to a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The document.
    pub document: DocumentRef,
    /// Ranking score.
    pub score: f64,
    /// Why, in words.
    pub reasons: Vec<String>,
}

/// `GET /v1/people/{id}/recommendations`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecommendationsView {
    /// The person.
    pub person: String,
    /// Whether anything was recommended from the person's data.
    pub personalized: bool,
    /// The gate's answer for `personalize.content.recommendations`.
    pub decision: DecisionView,
    /// Best first.
    pub recommendations: Vec<Recommendation>,
}

/// An organization inferred from the e-mail domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AffiliationView {
    /// The registrable domain (`acme.co.uk`).
    pub organization: String,
    /// Inferred from the e-mail domain, under `personalize.system.affiliation`.
    pub source: &'static str,
}

/// `GET /v1/people/{id}`: the profile and, where the gate allows, the affiliation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonView {
    /// The profile.
    #[serde(flatten)]
    pub person: Person,
    /// Organization from the e-mail domain (absent when unknown, free mail, or refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affiliation: Option<AffiliationView>,
}

/// Each role's name.
const ROLE_NAMES: [(u8, &str); 6] = [
    (role::CREATED, "created"),
    (role::EDITED, "edited"),
    (role::COMMENTED, "commented"),
    (role::ASSIGNED, "assigned"),
    (role::MENTIONED, "mentioned"),
    (role::VIEWED, "viewed"),
];

/// The names of the roles in `roles` (callers leave out viewing wherever others would see it).
fn role_names(roles: u8) -> Vec<&'static str> {
    ROLE_NAMES
        .into_iter()
        .filter(|(bit, _)| roles & bit != 0)
        .map(|(_, name)| name)
        .collect()
}

/// How much a role says about expertise.
fn role_weight(roles: u8) -> f64 {
    [
        (role::CREATED, 3.0),
        (role::EDITED, 2.0),
        (role::COMMENTED, 1.5),
        (role::ASSIGNED, 1.0),
        (role::MENTIONED, 0.5),
    ]
    .into_iter()
    .filter(|(bit, _)| roles & bit != 0)
    .map(|(_, w)| w)
    .sum()
}

/// `exp(-ln2 · age / half_life)`.
fn recency(at: Timestamp, now: Timestamp, half_life_days: f64) -> f64 {
    let age_days = (now.0 - at.0).max(0) as f64 / 86_400_000.0;
    (-std::f64::consts::LN_2 * age_days / half_life_days).exp()
}

fn day(at: Timestamp) -> String {
    at.to_string().chars().take(10).collect()
}

fn times(n: u32) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

/// Why a tie counts: mentions either way over the last weeks, and the last contact. No
/// all-time counts: they would reach back past the purpose's retention period.
fn tie_reasons(tie: &Tie, now: Timestamp) -> Vec<String> {
    let mut out = Vec::new();
    let recent = tie.recent_mentions(now);
    let since = day(recent.since);
    let mention = |lately: u32, what: &str| {
        (lately > 0).then(|| format!("{what} {} since {since}", times(lately)))
    };
    out.extend(mention(recent.inb, "mentioned you"));
    out.extend(mention(recent.out, "you mentioned them"));
    out.push(format!("last contact on {}", day(tie.last_contact())));
    out
}

fn doc_ref(g: &TenantGraph, o: u32) -> DocumentRef {
    let obj = g.object(o);
    DocumentRef {
        id: obj.map(|o| o.id.to_string()).unwrap_or_default(),
        title: obj.and_then(|o| o.title.as_deref().map(str::to_owned)),
        url: obj.and_then(|o| o.url.as_deref().map(str::to_owned)),
    }
}

/// Most people put to the gate as possible experts for one topic.
const MAX_EXPERT_CANDIDATES: usize = 1_000;

/// What one document adds to an expert: weight, object, roles.
type Contribution = (f64, u32, u8);

/// The context resolved for one writer: what it tells about candidates, worked out once per
/// request.
struct Context {
    object: Option<u32>,
    container: Option<String>,
    /// Who took part in the object.
    participants: HashSet<u32>,
    /// Members of its container: added to it, or named by its member list.
    members: HashSet<u32>,
}

impl Context {
    /// Who takes part counts from `since` (the purpose's retention period); members of the
    /// space, who have no time, count whenever they were added.
    fn resolve(g: &TenantGraph, asker: u32, id: Option<&str>, since: Timestamp) -> Option<Context> {
        let (object, container) = Context::target(g, asker, id)?;
        let participants = object
            .and_then(|o| g.object(o))
            .map(|o| takers_part(o, since).collect())
            .unwrap_or_default();
        let mut members: HashSet<u32> = g
            .listed(object, container.as_deref(), LISTED_CAP)
            .into_iter()
            .collect();
        if let Some(c) = container.as_deref().and_then(|c| g.container(c)) {
            members.extend(&c.members);
        }
        Some(Context {
            object,
            container,
            participants,
            members,
        })
    }

    fn can_see(&self, g: &TenantGraph, person: u32) -> bool {
        sees(g, self.object, self.container.as_deref(), person)
    }

    /// The object and container a context id names, if the writer can see it (an unknown or
    /// hidden context is ignored).
    fn target(
        g: &TenantGraph,
        asker: u32,
        id: Option<&str>,
    ) -> Option<(Option<u32>, Option<String>)> {
        let id = id?;
        match g.object_index(id) {
            Some(o) if !g.can_see(asker, o) => None,
            Some(o) => Some((
                Some(o),
                g.object(o)
                    .and_then(|x| x.container.as_deref().map(str::to_owned)),
            )),
            None if g.container(id).is_some() && g.can_see_container(asker, id) => {
                Some((None, Some(id.to_owned())))
            }
            None => None,
        }
    }
}

/// Whether `person` can see a context: its object, or else its container (everyone when it names
/// neither).
fn sees(g: &TenantGraph, object: Option<u32>, container: Option<&str>, person: u32) -> bool {
    match (object, container) {
        (Some(o), _) => g.can_see(person, o),
        (None, Some(c)) => g.can_see_container(person, c),
        (None, None) => true,
    }
}

/// People who took part in an object at or after `since` — wrote, edited, commented, were
/// assigned or mentioned. Viewers are not listed: who read what is not shown to others.
fn takers_part(o: &crate::graph::ObjectEntry, since: Timestamp) -> impl Iterator<Item = u32> + '_ {
    o.participants
        .iter()
        .filter(move |p| p.roles_since(since) & !role::VIEWED != 0)
        .map(|p| p.person)
}

fn active(g: &TenantGraph, i: u32) -> bool {
    g.profile(i).is_some_and(|p| p.active)
}

/// The people `asker` has a tie to, with a contact since `since` (the purpose's retention
/// period), whose names match the prefix, and the ties that set the scale (`scale`, from
/// [`scale_ties`]): those the gate is asked about before their ties may be used. Sorted, once
/// each.
pub fn tied_candidates(
    g: &TenantGraph,
    asker: u32,
    q: &MentionQuery,
    since: Timestamp,
    scale: &[u32],
) -> Vec<u32> {
    let words = Prefix::words(&q.prefix);
    let mut tied: Vec<u32> = g
        .affinity
        .ties(asker)
        .iter()
        .filter(|t| t.last_contact() >= since)
        .map(|t| t.to)
        .filter(|i| active(g, *i) && g.matches(*i, &words))
        .collect();
    tied.extend(scale);
    tied.sort_unstable();
    tied.dedup();
    tied
}

/// The graph indices of `people`, sorted: a set to search while ranking.
pub fn indices(g: &TenantGraph, people: &HashSet<String>) -> Vec<u32> {
    let mut out: Vec<u32> = people.iter().filter_map(|id| g.index(id)).collect();
    out.sort_unstable();
    out
}

/// The people a suggestion ranks, and the context they were gathered for.
pub struct Candidates {
    people: Vec<u32>,
    context: Option<Context>,
    /// The prefix's folded words, packed.
    words: Vec<Prefix>,
    /// Ties last touched before this are not used (the purpose's retention period).
    since: Timestamp,
    /// The asker's strongest usable ties, whatever the prefix: with the candidates' own, what
    /// a tie's share is of.
    scale: Vec<u32>,
}

/// Gathers @mention candidates for `asker`: their ties the gate allowed (`tie_ok`: both people)
/// with a contact since `since` (the purpose's retention period), the context's people, their
/// teams, and people matched by prefix; `scale` ([`scale_ties`]) is kept to set what a tie's
/// share is of. The first half of a suggestion (public for benchmarks).
pub fn mention_candidates(
    g: &TenantGraph,
    asker: u32,
    q: &MentionQuery,
    tie_ok: &dyn Fn(u32) -> bool,
    since: Timestamp,
    scale: &[u32],
) -> Candidates {
    let words = Prefix::words(&q.prefix);
    let mut out = Vec::new();
    let take = |i: u32, out: &mut Vec<u32>| {
        if i != asker && active(g, i) && g.matches(i, &words) {
            out.push(i);
        }
    };
    for t in g.affinity.ties(asker) {
        if t.last_contact() >= since && tie_ok(t.to) {
            take(t.to, &mut out);
        }
    }
    let context = Context::resolve(g, asker, q.context.as_deref(), since);
    if let Some(ctx) = &context {
        for i in ctx.participants.iter().chain(&ctx.members) {
            take(*i, &mut out);
        }
    }
    if let Some(p) = g.profile(asker) {
        for t in &p.teams {
            for i in g.team(t) {
                take(*i, &mut out);
            }
        }
    }
    if !words.is_empty() {
        // Matched already.
        for i in g.prefix_matches(&words, PREFIX_SCAN) {
            if i != asker && active(g, i) {
                out.push(i);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    let scale = scale.iter().copied().filter(|i| tie_ok(*i)).collect();
    Candidates {
        people: out,
        context,
        words,
        since,
        scale,
    }
}

/// Ranks candidates; the second half of a suggestion. `tie_ok(i)` says whether the asker's tie
/// to `i` may be used (both allow the purpose); a tie older than the candidates' retention
/// bound never is. Scores every candidate without allocating, then
/// explains only the best `keep`. Returns whether a visible context was used.
pub fn rank_mentions(
    g: &TenantGraph,
    asker: u32,
    q: &MentionQuery,
    candidates: &Candidates,
    tie_ok: &dyn Fn(u32) -> bool,
    now: Timestamp,
    keep: usize,
) -> (bool, Vec<MentionSuggestion>) {
    struct Scored<'a> {
        i: u32,
        profile: &'a crate::graph::Profile,
        score: f64,
        can_see: bool,
        tie: Option<(&'a Tie, f64)>,
        participant: bool,
        member: bool,
        team: Option<&'a str>,
        first_name: bool,
    }
    let ctx = candidates.context.as_ref();
    let asker_teams: &[u32] = g.profile(asker).map_or(&[], |p| &p.team_ids);
    let asker_org = g.profile(asker).and_then(|p| p.organization.as_deref());
    let words = &candidates.words;
    let mut scored: Vec<Scored<'_>> = Vec::with_capacity(candidates.people.len());
    for &c in &candidates.people {
        // The graph may have changed since candidates were gathered (an erasure).
        let Some(profile) = g.profile(c).filter(|p| p.active) else {
            continue;
        };
        if c == asker {
            continue;
        }
        let can_see = ctx.is_none_or(|x| x.can_see(g, c));
        if !can_see && !q.include_invitees {
            continue;
        }
        let tie = g
            .affinity
            .tie(asker, c)
            .filter(|t| t.last_contact() >= candidates.since && tie_ok(c))
            .map(|t| (t, g.affinity.tie_score(t, now)));
        let participant = ctx.is_some_and(|x| x.participants.contains(&c));
        let member = ctx.is_some_and(|x| x.members.contains(&c));
        let team = profile
            .team_ids
            .iter()
            .position(|t| asker_teams.contains(t))
            .and_then(|k| profile.teams.get(k))
            .map(|t| &**t);
        // Name match quality only orders otherwise equal people: the first word of the name
        // before a later one.
        let first_name = words
            .first()
            .zip(profile.first_word())
            .is_some_and(|(p, w)| w.starts_with(p));
        // The tie's share is added once the strongest tie is known (below).
        let score = if participant {
            CONTEXT_PARTICIPANT
        } else {
            0.0
        } + if member { CONTAINER_MEMBER } else { 0.0 }
            + if team.is_some() { SAME_TEAM } else { 0.0 }
            + if first_name { NAME_MATCH } else { 0.0 };
        scored.push(Scored {
            i: c,
            profile,
            score,
            can_see,
            tie,
            participant,
            member,
            team,
            first_name,
        });
    }
    // The scale: the strongest usable tie to someone who can see the context — among the
    // candidates and the asker's strongest few who can see it (more of them when the gate
    // refused the first), whatever the prefix — so neither a letter typed nor the invitee flag
    // changes a share.
    let visible_tie = |i: u32| {
        ctx.is_none_or(|x| x.can_see(g, i))
            .then(|| g.affinity.tie(asker, i))
            .flatten()
            .map(|t| g.affinity.tie_score(t, now))
    };
    let strongest = scored
        .iter()
        .filter(|s| s.can_see)
        .filter_map(|s| s.tie.map(|t| t.1))
        .chain(candidates.scale.iter().filter_map(|i| visible_tie(*i)))
        .fold(0.0, f64::max);
    let of = scale(strongest, g.affinity.params());
    for s in &mut scored {
        if let Some((_, a)) = &mut s.tie {
            *a /= of;
            s.score += *a;
        }
    }
    let order = |a: &Scored<'_>, b: &Scored<'_>| {
        b.can_see
            .cmp(&a.can_see)
            .then(b.score.total_cmp(&a.score))
            .then(a.profile.sort_key().cmp(&b.profile.sort_key()))
            .then_with(|| a.profile.name.cmp(&b.profile.name))
            .then(a.i.cmp(&b.i))
    };
    if scored.len() > keep {
        scored.select_nth_unstable_by(keep, order);
        scored.truncate(keep);
    }
    scored.sort_by(order);
    let out = scored
        .into_iter()
        .map(|s| {
            let mut signals = Vec::new();
            if let Some((_, score)) = s.tie {
                signals.push(Signal {
                    signal: "affinity",
                    score,
                    detail: String::new(),
                });
            }
            if s.participant {
                signals.push(Signal {
                    signal: "context_participant",
                    score: CONTEXT_PARTICIPANT,
                    detail: "takes part in this context".into(),
                });
            }
            if s.member {
                signals.push(Signal {
                    signal: "container_member",
                    score: CONTAINER_MEMBER,
                    detail: "member of its space".into(),
                });
            }
            if let Some(team) = s.team {
                signals.push(Signal {
                    signal: "team",
                    score: SAME_TEAM,
                    detail: format!("both in team {team}"),
                });
            }
            if s.first_name {
                signals.push(Signal {
                    signal: "name",
                    score: NAME_MATCH,
                    detail: "first name matches".into(),
                });
            }
            MentionSuggestion {
                person: s.profile.id.to_string(),
                name: s.profile.name.as_deref().map(str::to_owned),
                score: s.score,
                can_see_context: s.can_see,
                signals,
                tie: s.tie.map(|(t, _)| *t),
                same_org: asker_org.is_some() && s.profile.organization.as_deref() == asker_org,
            }
        })
        .collect();
    (ctx.is_some(), out)
}

fn sort_suggestions(out: &mut [MentionSuggestion]) {
    out.sort_by(|a, b| {
        b.can_see_context
            .cmp(&a.can_see_context)
            .then(b.score.total_cmp(&a.score))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.person.cmp(&b.person))
    });
}

/// What the interaction graph holds about one person, for their export (Art. 15/20): held
/// whatever the gate says now, as the activity view's counts are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphHeld {
    /// Organization inferred from the e-mail domain.
    pub organization: Option<String>,
    /// Ties to other people, strongest first.
    pub ties: Vec<TieHeld>,
    /// Parts in content: what they did to which object, and when they last did each.
    pub content: Vec<ContentHeld>,
    /// Spaces, boards, projects, repositories and channels they were added to.
    pub memberships: Vec<String>,
}

/// One tie, as held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TieHeld {
    /// The other person.
    pub person: String,
    /// Its weight now (decayed).
    pub weight: f64,
    /// Last contact either way.
    pub last_contact: Timestamp,
    /// Mentions of the other person since `mentions_since`.
    pub you_mentioned: u32,
    /// Mentions by the other person since `mentions_since`.
    pub mentioned_you: u32,
    /// The Monday mentions are counted from (the graph keeps five weeks).
    pub mentions_since: Timestamp,
}

/// One part in a piece of content, as held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentHeld {
    /// Object id.
    pub object: String,
    /// Each role played (`created`, `edited`, `commented`, `assigned`, `mentioned`,
    /// `viewed`) and when last.
    pub roles: std::collections::BTreeMap<&'static str, Timestamp>,
}

impl Engine {
    /// What the interaction graph holds about `person`, without asking the gate (what an
    /// export must show); `None` when it holds nothing.
    pub fn graph_held(&self, tenant: &str, person: &str) -> Option<GraphHeld> {
        let now = self.now();
        self.with_person(tenant, person, |g, me| {
            let mut ties: Vec<TieHeld> = g
                .affinity
                .ties(me)
                .iter()
                .map(|t| {
                    let recent = t.recent_mentions(now);
                    TieHeld {
                        person: g.id(t.to).to_owned(),
                        weight: g.affinity.tie_score(t, now),
                        last_contact: t.last_contact(),
                        you_mentioned: recent.out,
                        mentioned_you: recent.inb,
                        mentions_since: recent.since,
                    }
                })
                .collect();
            ties.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.person.cmp(&b.person)));
            let content = g
                .touched(me)
                .iter()
                .filter_map(|&o| {
                    let obj = g.object(o)?;
                    let part = obj.participant(me)?;
                    // Their own reading is theirs to see, though never shown to others.
                    let roles = part
                        .role_times()
                        .flat_map(|(bit, at)| role_names(bit).into_iter().map(move |n| (n, at)))
                        .collect();
                    Some(ContentHeld {
                        object: obj.id.to_string(),
                        roles,
                    })
                })
                .collect();
            GraphHeld {
                organization: g
                    .profile(me)
                    .and_then(|p| p.organization.as_deref().map(str::to_owned)),
                ties,
                content,
                memberships: g.memberships(me).into_iter().map(str::to_owned).collect(),
            }
        })
    }

    fn tenant_index(&self, tenant: &str, person: &str) -> Option<u32> {
        self.read_graph(|g| g.tenant(tenant).and_then(|t| t.index(person)))
    }

    /// Runs `f` on the tenant's graph with the person's index, resolved under the same read:
    /// indices are not carried from one read to the next, as a rebuild may number people anew.
    fn with_person<R>(
        &self,
        tenant: &str,
        person: &str,
        f: impl FnOnce(&TenantGraph, u32) -> R,
    ) -> Option<R> {
        self.read_graph(|g: &GraphState| {
            let g = g.tenant(tenant)?;
            Some(f(g, g.index(person)?))
        })
    }

    /// The oldest time data used for `purpose` may come from: its retention period before
    /// `now`. Reads leave out ties and contributions last touched before it.
    fn retained_since(&self, purpose: &str, now: Timestamp) -> Result<Timestamp, EngineError> {
        Ok(self.purpose(purpose)?.retained_since(now))
    }

    /// Asks the gate for `purpose` about each of `people`; the allowed ones.
    async fn allowed_set(
        &self,
        tenant: &str,
        people: Vec<String>,
        purpose: &str,
        now: Timestamp,
    ) -> Result<HashSet<String>, EngineError> {
        let allowed = self.allowed_many(tenant, &people, purpose, now).await?;
        Ok(people
            .into_iter()
            .zip(allowed)
            .filter_map(|(p, ok)| ok.then_some(p))
            .collect())
    }

    /// Ranked people for `person` to @mention.
    ///
    /// # Errors
    /// [`EngineError::PersonNotFound`]; views not caught up with `min_seq`; store failure.
    pub async fn mention_suggestions(
        &self,
        tenant: &str,
        person: &str,
        q: &MentionQuery,
        min_seq: Option<i64>,
    ) -> Result<MentionSuggestionsView, EngineError> {
        self.person(tenant, person).await?;
        self.wait_for_graph(min_seq).await?;
        let now = self.now();
        let decision = self.decide(tenant, person, MENTIONS, Some(now)).await?;
        if self.tenant_index(tenant, person).is_none() {
            return Ok(MentionSuggestionsView {
                person: person.to_owned(),
                personalized: false,
                fallback: Some("nothing is known about this person's work yet".into()),
                decision,
                context_used: false,
                suggestions: Vec::new(),
            });
        }
        let limit = q.limit.clamp(1, MAX_LIMIT);
        // An edge between two people is used — even to make someone a candidate — only when
        // both allow it.
        let since = self.retained_since(MENTIONS, now)?;
        let (usable, scale) = if decision.allowed {
            // The scale's ties are chosen here and carried to the ranking by id: the graph may
            // change between the reads. Should the gate refuse every one of them, the next
            // strongest are asked about (four times as many each round), so the scale stays
            // the strongest usable tie rather than the prefix's best.
            let (mut usable, mut asked) = (HashSet::new(), HashSet::new());
            let mut count = SCALE_TIES;
            loop {
                let (tied, scale): (Vec<String>, HashSet<String>) = self
                    .with_person(tenant, person, |g, asker| {
                        let scale = scale_ties(g, asker, q, since, now, count);
                        let ids = |list: &[u32]| -> Vec<String> {
                            list.iter().map(|i| g.id(*i).to_owned()).collect()
                        };
                        let tied = ids(&tied_candidates(g, asker, q, since, &scale));
                        (tied, ids(&scale).into_iter().collect())
                    })
                    .unwrap_or_default();
                let fresh: Vec<String> = tied
                    .into_iter()
                    .filter(|p| asked.insert(p.clone()))
                    .collect();
                usable.extend(self.allowed_set(tenant, fresh, MENTIONS, now).await?);
                if scale.len() < count
                    || scale.iter().any(|p| usable.contains(p))
                    || count >= MAX_SCALE_TIES
                {
                    break (usable, scale);
                }
                count *= 4;
            }
        } else {
            (HashSet::new(), HashSet::new())
        };
        let (organization, (context_used, mut suggestions)) = self
            .with_person(tenant, person, |g, asker| {
                let usable = indices(g, &usable);
                let tie_ok = |i: u32| usable.binary_search(&i).is_ok();
                let candidates =
                    mention_candidates(g, asker, q, &tie_ok, since, &indices(g, &scale));
                let organization = g
                    .profile(asker)
                    .and_then(|p| p.organization.as_deref().map(str::to_owned));
                let ranked = rank_mentions(g, asker, q, &candidates, &tie_ok, now, limit * 3);
                (organization, ranked)
            })
            .unwrap_or_default();
        // The organization boost, where both allow affiliation, orders the leading window.
        if let Some(organization) = organization {
            self.boost_organization(tenant, person, &organization, &mut suggestions, now)
                .await?;
        }
        sort_suggestions(&mut suggestions);
        suggestions.truncate(limit);
        explain(&mut suggestions, now);
        let fallback = (!decision.allowed).then(|| {
            format!(
                "ranked by context membership and name only: {} for {MENTIONS}",
                decision.reason.as_str()
            )
        });
        Ok(MentionSuggestionsView {
            person: person.to_owned(),
            personalized: decision.allowed,
            fallback,
            decision,
            context_used,
            suggestions,
        })
    }

    /// Adds the organization signal to suggestions at the writer's organization, where both
    /// allow affiliation to be used.
    async fn boost_organization(
        &self,
        tenant: &str,
        person: &str,
        mine: &str,
        suggestions: &mut [MentionSuggestion],
        now: Timestamp,
    ) -> Result<(), EngineError> {
        if !self.allowed_now(tenant, person, AFFILIATION, now).await? {
            return Ok(());
        }
        let same: Vec<String> = suggestions
            .iter()
            .filter(|s| s.same_org)
            .map(|s| s.person.clone())
            .collect();
        let allowed = self.allowed_set(tenant, same, AFFILIATION, now).await?;
        for s in suggestions.iter_mut() {
            if allowed.contains(&s.person) {
                s.score += SAME_ORGANIZATION;
                s.signals.push(Signal {
                    signal: "organization",
                    score: SAME_ORGANIZATION,
                    detail: format!("both at {mine}"),
                });
            }
        }
        Ok(())
    }

    /// The people `person` works with most, with reasons.
    ///
    /// # Errors
    /// [`EngineError::PersonNotFound`]; views not caught up; store failure.
    pub async fn connections(
        &self,
        tenant: &str,
        person: &str,
        limit: usize,
        min_seq: Option<i64>,
    ) -> Result<ConnectionsView, EngineError> {
        self.person(tenant, person).await?;
        self.wait_for_graph(min_seq).await?;
        let now = self.now();
        let decision = self.decide(tenant, person, CONNECTIONS, Some(now)).await?;
        let limit = limit.clamp(1, MAX_LIMIT);
        let since = self.retained_since(CONNECTIONS, now)?;
        let tied: Vec<String> = match decision.allowed {
            true => self
                .with_person(tenant, person, |g, me| {
                    g.affinity
                        .ties(me)
                        .iter()
                        .filter(|t| active(g, t.to) && t.last_contact() >= since)
                        .map(|t| g.id(t.to).to_owned())
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let usable = self.allowed_set(tenant, tied, CONNECTIONS, now).await?;
        let mut connections: Vec<Connection> = self
            .with_person(tenant, person, |g, me| {
                let mut by: HashMap<u32, Connection> = HashMap::new();
                for tie in g.affinity.ties(me) {
                    let Some(p) = g.profile(tie.to).filter(|p| p.active) else {
                        continue;
                    };
                    if !usable.contains(&*p.id) || tie.last_contact() < since {
                        continue;
                    }
                    by.insert(
                        tie.to,
                        Connection {
                            person: p.id.to_string(),
                            name: p.name.as_deref().map(str::to_owned),
                            // Made relative to the strongest below.
                            score: g.affinity.tie_score(tie, now),
                            reasons: tie_reasons(tie, now),
                        },
                    );
                }
                let strongest = by.values().map(|c| c.score).fold(0.0, f64::max);
                let of = scale(strongest, g.affinity.params());
                for c in by.values_mut() {
                    c.score /= of;
                }
                let teams = g.profile(me).map(|p| p.teams.clone()).unwrap_or_default();
                for team in &teams {
                    for &i in g.team(team) {
                        let Some(p) = g.profile(i).filter(|p| p.active && i != me) else {
                            continue;
                        };
                        let c = by.entry(i).or_insert_with(|| Connection {
                            person: p.id.to_string(),
                            name: p.name.as_deref().map(str::to_owned),
                            score: 0.0,
                            reasons: Vec::new(),
                        });
                        c.score += SAME_TEAM;
                        c.reasons.push(format!("both in team {team}"));
                    }
                }
                by.into_values().collect()
            })
            .unwrap_or_default();
        connections.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.person.cmp(&b.person)));
        connections.truncate(limit);
        Ok(ConnectionsView {
            person: person.to_owned(),
            personalized: decision.allowed,
            decision,
            connections,
        })
    }

    /// People with expertise on `topic`, from the documents `asker` may see.
    ///
    /// # Errors
    /// [`EngineError::PersonNotFound`] for the asker; an empty topic; store failure.
    pub async fn experts(
        &self,
        tenant: &str,
        asker: &str,
        topic: &str,
        limit: usize,
        min_seq: Option<i64>,
    ) -> Result<ExpertsView, EngineError> {
        if text::terms(topic).next().is_none() {
            return Err(EngineError::invalid(
                "topic",
                "needs at least one word of two or more letters that is not a stop word",
            ));
        }
        self.person(tenant, asker).await?;
        self.wait_for_graph(min_seq).await?;
        let now = self.now();
        let since = self.retained_since(PROFILING, now)?;
        let limit = limit.clamp(1, MAX_LIMIT);
        // Document-centric: relevant documents the asker can see, then their people. Who took
        // part is all that is read before the gate: the contributions of someone who objected
        // are never weighed. Documents are carried to the second read by id (a rebuild may
        // number them anew) and checked again there.
        let (documents, candidates) = self
            .with_person(tenant, asker, |g, me| {
                let docs = g.topic_objects(topic, 200, &|o| g.can_see(me, o));
                // The most relevant documents' people first, up to a bound on gate decisions.
                let mut seen = HashSet::new();
                let people: Vec<String> = docs
                    .iter()
                    .filter_map(|(o, _)| g.object(*o))
                    .flat_map(|obj| takers_part(obj, since))
                    .filter(|p| *p != me && active(g, *p) && seen.insert(*p))
                    .take(MAX_EXPERT_CANDIDATES)
                    .map(|p| g.id(p).to_owned())
                    .collect();
                let docs: Vec<(String, f64)> = docs
                    .iter()
                    .filter_map(|(o, r)| Some((g.object(*o)?.id.to_string(), *r)))
                    .collect();
                (docs, people)
            })
            .unwrap_or_default();
        // Only people who allow being found as experts; an objection removes them.
        let allowed = self.allowed_set(tenant, candidates, PROFILING, now).await?;
        let experts = self
            .with_person(tenant, asker, |g, me| {
                let allowed = indices(g, &allowed);
                let best = documents
                    .first()
                    .map_or(1.0, |d| d.1.max(f64::MIN_POSITIVE));
                let mut by: HashMap<u32, (f64, Vec<Contribution>)> = HashMap::new();
                for (id, relevance) in &documents {
                    let Some(o) = g.object_index(id).filter(|o| g.can_see(me, *o)) else {
                        continue;
                    };
                    let Some(obj) = g.object(o) else { continue };
                    for p in &obj.participants {
                        if allowed.binary_search(&p.person).is_err() {
                            continue;
                        }
                        // Reading is not expertise, and who read what is not shown; a role
                        // last played before the retention period is not evidence.
                        let roles = p.roles_since(since) & !role::VIEWED;
                        if roles == 0 || p.person == me || !active(g, p.person) {
                            continue;
                        }
                        // Each role weighs by its own recency: a mention yesterday does not
                        // make authorship from months ago recent.
                        let w = relevance / best
                            * p.role_times()
                                .filter(|(bit, _)| roles & bit != 0)
                                .map(|(bit, at)| role_weight(bit) * recency(at, now, 180.0))
                                .sum::<f64>();
                        let e = by.entry(p.person).or_default();
                        e.0 += w;
                        e.1.push((w, o, roles));
                    }
                }
                // Evidence is resolved here, under the read that checked it may be seen.
                let mut scored: Vec<Expert> = by
                    .into_iter()
                    .filter_map(|(i, (score, mut docs))| {
                        let profile = g.profile(i)?;
                        docs.sort_by(|a, b| b.0.total_cmp(&a.0));
                        let evidence = docs
                            .iter()
                            .take(3)
                            .map(|(_, o, roles)| ExpertEvidence {
                                document: doc_ref(g, *o),
                                roles: role_names(*roles),
                            })
                            .collect();
                        Some(Expert {
                            person: g.id(i).to_owned(),
                            name: profile.name.as_deref().map(str::to_owned),
                            job_title: profile.job_title.as_deref().map(str::to_owned),
                            score,
                            evidence,
                        })
                    })
                    .collect();
                scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.person.cmp(&b.person)));
                scored.truncate(limit);
                scored
            })
            .unwrap_or_default();
        Ok(ExpertsView {
            topic: topic.to_owned(),
            asker: asker.to_owned(),
            documents_considered: documents.len(),
            experts,
        })
    }

    /// Content `person` is likely to want and has not touched yet, with reasons.
    ///
    /// # Errors
    /// [`EngineError::PersonNotFound`]; views not caught up; store failure.
    pub async fn recommendations(
        &self,
        tenant: &str,
        person: &str,
        limit: usize,
        min_seq: Option<i64>,
    ) -> Result<RecommendationsView, EngineError> {
        self.person(tenant, person).await?;
        self.wait_for_graph(min_seq).await?;
        let now = self.now();
        let decision = self
            .decide(tenant, person, RECOMMENDATIONS, Some(now))
            .await?;
        let limit = limit.clamp(1, MAX_LIMIT);
        if !decision.allowed || self.tenant_index(tenant, person).is_none() {
            return Ok(RecommendationsView {
                person: person.to_owned(),
                personalized: false,
                decision,
                recommendations: Vec::new(),
            });
        }
        // Whose activity could inform the list: the closest ties and colleagues in the same
        // department or job; each must allow recommendations. Only what lies inside the
        // retention period is used.
        let since = self.retained_since(RECOMMENDATIONS, now)?;
        let sources: Vec<(String, &'static str)> = self
            .with_person(tenant, person, |g, me| {
                let mut ties: Vec<(f64, u32)> = g
                    .affinity
                    .ties(me)
                    .iter()
                    .filter(|t| t.last_contact() >= since)
                    .map(|t| (g.affinity.tie_score(t, now), t.to))
                    .collect();
                ties.sort_by(|a, b| b.0.total_cmp(&a.0));
                let mut out: Vec<(String, &'static str)> = ties
                    .iter()
                    .take(20)
                    .map(|(_, i)| (g.id(*i).to_owned(), "connection"))
                    .collect();
                if let Some(p) = g.profile(me) {
                    for i in g.colleagues(p, 50) {
                        if i != me {
                            out.push((g.id(i).to_owned(), "colleague"));
                        }
                    }
                }
                out
            })
            .unwrap_or_default();
        let allowed = self
            .allowed_set(
                tenant,
                sources.iter().map(|(id, _)| id.clone()).collect(),
                RECOMMENDATIONS,
                now,
            )
            .await?;
        let mut recommendations = self
            .with_person(tenant, person, |g, me| {
                let mut by: HashMap<u32, (f64, Vec<String>)> = HashMap::new();
                let mut add = |o: u32, w: f64, reason: String| {
                    let Some(obj) = g.object(o) else { return };
                    // Touched inside the retention period: an older part is not known any more
                    // (the sweep drops it), whether or not it was dropped yet.
                    let touched = obj
                        .participant(me)
                        .is_some_and(|p| p.roles_since(since) != 0);
                    if touched || obj.last_at < since || !g.can_see(me, o) {
                        return;
                    }
                    let e = by.entry(o).or_default();
                    e.0 += w * recency(obj.last_at, now, 14.0);
                    if e.1.len() < 3 && !e.1.contains(&reason) {
                        e.1.push(reason);
                    }
                };
                for (id, kind) in &sources {
                    if !allowed.contains(id) {
                        continue;
                    }
                    let Some(i) = g.index(id) else { continue };
                    let Some(p) = g.profile(i).filter(|p| p.active) else {
                        continue;
                    };
                    let who = p.name.as_deref().unwrap_or(&p.id);
                    for &o in g.touched(i) {
                        let Some(part) = g.object(o).and_then(|x| x.participant(i)) else {
                            continue;
                        };
                        if part.roles_since(since) & (role::AUTHOR | role::COMMENTED) == 0 {
                            continue;
                        }
                        let (w, reason) = if *kind == "connection" {
                            (1.0, format!("{who}, whom you work with, worked on it"))
                        } else {
                            (0.5, format!("{who}, in a role like yours, worked on it"))
                        };
                        add(o, w, reason);
                    }
                }
                for (container, c) in g.containers_of(me, since) {
                    for &o in &c.objects {
                        add(o, 0.8, format!("new in {container}, where you work"));
                    }
                }
                let mut out: Vec<Recommendation> = by
                    .into_iter()
                    .map(|(o, (score, reasons))| Recommendation {
                        document: doc_ref(g, o),
                        score,
                        reasons,
                    })
                    .collect();
                out.sort_by(|a, b| {
                    b.score
                        .total_cmp(&a.score)
                        .then_with(|| a.document.id.cmp(&b.document.id))
                });
                out
            })
            .unwrap_or_default();
        recommendations.truncate(limit);
        Ok(RecommendationsView {
            person: person.to_owned(),
            personalized: true,
            decision,
            recommendations,
        })
    }

    /// A person with their affiliation, where the gate allows it.
    ///
    /// # Errors
    /// [`EngineError::PersonNotFound`]; store failure.
    pub async fn person_view(&self, tenant: &str, id: &str) -> Result<PersonView, EngineError> {
        let person = self.person(tenant, id).await?;
        let organization = person
            .email
            .as_deref()
            .and_then(basis_core::affiliation::organization);
        let affiliation = match organization {
            Some(org)
                if self
                    .allowed_now(tenant, id, AFFILIATION, self.now())
                    .await? =>
            {
                Some(AffiliationView {
                    organization: org,
                    source: "email_domain",
                })
            }
            _ => None,
        };
        Ok(PersonView {
            person,
            affiliation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use basis_core::affinity::AffinityParams;
    use basis_core::event::Event;
    use basis_core::person::PersonInput;

    const DAY: i64 = 86_400_000;

    fn person(id: &str, name: &str, teams: &[&str]) -> Person {
        PersonInput {
            name: Some(name.into()),
            email: Some(format!("{id}@acme.com")),
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            ..PersonInput::default()
        }
        .into_person(id)
        .unwrap()
    }

    fn event(json: serde_json::Value) -> Event {
        serde_json::from_value(json).unwrap()
    }

    fn graph() -> TenantGraph {
        let mut g = TenantGraph::new(AffinityParams {
            burst_weight: 0.0,
            ..AffinityParams::default()
        });
        g.put_person(&person("ann", "Ann Arbor", &["eng"]));
        g.put_person(&person("bob", "Bob Åkesson", &[]));
        g.put_person(&person("bea", "Beatrice Bell", &["eng"]));
        g.put_person(&person("ben", "Ben Brown", &[]));
        g.put_person(&person("cat", "Cat Clark", &[]));
        g
    }

    fn mention(g: &mut TenantGraph, from: &str, to: &str, at: i64) {
        let e = event(serde_json::json!({
            "id": format!("m-{from}-{to}-{at}"), "type": "comment.created",
            "at": Timestamp(at).to_string(), "actor": from, "mentions": [to]
        }));
        g.apply(&e, &|_| true);
    }

    fn ranked(
        g: &TenantGraph,
        q: &MentionQuery,
        now: i64,
        tie_ok: &dyn Fn(u32) -> bool,
    ) -> Vec<String> {
        let ann = g.index("ann").unwrap();
        let since = Timestamp(i64::MIN);
        let scale = scale_ties(g, ann, q, since, Timestamp(now), SCALE_TIES);
        let c = mention_candidates(g, ann, q, tie_ok, since, &scale);
        rank_mentions(g, ann, q, &c, tie_ok, Timestamp(now), 10)
            .1
            .into_iter()
            .map(|s| s.person)
            .collect()
    }

    fn q(prefix: &str, context: Option<&str>) -> MentionQuery {
        MentionQuery {
            prefix: prefix.into(),
            context: context.map(str::to_owned),
            limit: 10,
            include_invitees: false,
        }
    }

    #[test]
    fn decay_orders_recent_over_old_and_prefix_is_accent_and_case_insensitive() {
        let mut g = graph();
        for k in 0..3 {
            mention(&mut g, "ann", "ben", k * 1000);
        }
        mention(&mut g, "ann", "bob", 10 * DAY);
        // Three mentions ten days ago (×0.1) lose to one today: Ben's share is
        // 3 × 0.5^(10/3) ≈ 0.3 of Bob's, above Bea's team (0.05).
        assert_eq!(
            ranked(&g, &q("b", None), 10 * DAY, &|_| true),
            ["bob", "ben", "bea"]
        );
        // Twenty days on, with Bob mentioned again, Ben's share (3 × 0.5^10 / 1.01 ≈ 0.003)
        // falls below the team boost.
        mention(&mut g, "ann", "bob", 30 * DAY);
        let after = ["bob", "bea", "ben"];
        assert_eq!(ranked(&g, &q("b", None), 30 * DAY, &|_| true), after);
        // A month away changes nothing: every tie decays alike and affinity counts relative to
        // the strongest, so the boosts do not take over from it. "AKE" finds Åkesson.
        assert_eq!(ranked(&g, &q("b", None), 60 * DAY, &|_| true), after);
        assert_eq!(ranked(&g, &q("AKE", None), 60 * DAY, &|_| true), ["bob"]);
        // Without the tie (objection) Ben and Bob fall back to name order, Bea by team.
        assert_eq!(
            ranked(&g, &q("b", None), 10 * DAY, &|_| false),
            ["bea", "ben", "bob"]
        );
    }

    #[test]
    fn type_weights_and_context_and_team_boosts() {
        let mut g = graph();
        // Cat is assigned by Ann (0.8), Ben mentioned (1.0).
        g.apply(
            &event(serde_json::json!({"id": "a1", "type": "task.assigned", "at": Timestamp(0).to_string(),
                "actor": "ann", "assignee": "cat", "object": {"id": "t-1", "kind": "ticket"}})),
            &|_| true,
        );
        mention(&mut g, "ann", "ben", 0);
        assert_eq!(
            ranked(&g, &q("", None), 0, &|_| true)[..3],
            ["ben", "cat", "bea"]
        );
        // Bob wrote the page Ann writes in: a participant of the context ranks just below her
        // strongest tie (Ben) and above every other (Cat's assignment, Bea's team).
        g.apply(
            &event(serde_json::json!({"id": "c1", "type": "content.created", "at": Timestamp(0).to_string(),
                "actor": "bob", "object": {"id": "page-1", "title": "Plan", "container": "space-x"}})),
            &|_| true,
        );
        assert_eq!(
            ranked(&g, &q("", Some("page-1")), 0, &|_| true)[..4],
            ["ben", "bob", "cat", "bea"]
        );
    }

    /// A share is of the asker's strongest usable tie to someone who can see the context,
    /// whatever the prefix or the invitee flag: typing a letter or asking for invitees never
    /// reorders the people shown.
    #[test]
    fn neither_the_prefix_nor_invitees_change_the_scale() {
        let mut g = graph();
        // Cat is Ann's strongest tie (two mentions now); Ben a weak one (one, two half-lives
        // back: an eighth of Cat's).
        for k in 0..2 {
            mention(&mut g, "ann", "cat", 6 * DAY + k);
        }
        mention(&mut g, "ann", "ben", 0);
        // Bob wrote the page; Cat may not see it.
        g.apply(
            &event(serde_json::json!({"id": "c1", "type": "content.created", "at": Timestamp(6 * DAY).to_string(),
                "actor": "bob", "object": {"id": "page-1", "visibility": {"members": ["ann", "bob", "ben", "bea"]}}})),
            &|_| true,
        );
        let now = 6 * DAY;
        let all = ranked(&g, &q("", Some("page-1")), now, &|_| true);
        // Without Cat (who cannot see it), Ben's is the strongest tie here, above Bob.
        assert_eq!(all[..2], ["ben", "bob"]);
        let typed = ranked(&g, &q("b", Some("page-1")), now, &|_| true);
        assert_eq!(typed[..2], ["ben", "bob"], "a letter typed changes nothing");
        let ann = g.index("ann").unwrap();
        let mut query = q("", Some("page-1"));
        query.include_invitees = true;
        let c = mention_candidates(&g, ann, &query, &|_| true, Timestamp(i64::MIN), &[]);
        let (_, with) = rank_mentions(&g, ann, &query, &c, &|_| true, Timestamp(now), 10);
        let visible: Vec<&str> = with
            .iter()
            .filter(|s| s.can_see_context)
            .map(|s| s.person.as_str())
            .collect();
        assert_eq!(visible, all, "asking for invitees changes nothing");
        assert_eq!(with.last().map(|s| s.person.as_str()), Some("cat"));
        // Without a context, Cat's tie is the scale: Ben's is a small share of it, whether the
        // prefix matches Cat or not.
        let b = ranked(&g, &q("b", None), now, &|_| true);
        assert_eq!(b, ["ben", "bea", "bob"], "Ben's share above Bea's team");
        let scale = scale_ties(
            &g,
            ann,
            &q("b", None),
            Timestamp(i64::MIN),
            Timestamp(now),
            SCALE_TIES,
        );
        let c = mention_candidates(
            &g,
            ann,
            &q("b", None),
            &|_| true,
            Timestamp(i64::MIN),
            &scale,
        );
        let (_, shown) = rank_mentions(&g, ann, &q("b", None), &c, &|_| true, Timestamp(now), 10);
        let share = shown[0].signals[0].score;
        assert!((0.12..0.13).contains(&share), "{share}");
    }

    /// The scale's ties are the strongest to people who can see the context: with more strong
    /// ties outside a private page than the scale holds, a prefix still leaves shares alone.
    #[test]
    fn the_scale_is_taken_among_people_who_can_see_the_context() {
        let mut g = graph();
        g.put_person(&person("dan", "Dan Dorsey", &[]));
        for k in 0..SCALE_TIES {
            let id = format!("x{k}");
            g.put_person(&person(&id, "Xavier", &[]));
            for n in 0..5 {
                mention(&mut g, "ann", &id, DAY + n);
            }
        }
        for n in 0..2 {
            mention(&mut g, "ann", "dan", DAY + n);
        }
        mention(&mut g, "ann", "ben", DAY);
        g.apply(
            &event(serde_json::json!({"id": "c1", "type": "content.created", "at": Timestamp(DAY).to_string(),
                "actor": "bob", "object": {"id": "page-1", "visibility": {"members": ["ann", "bob", "ben", "dan"]}}})),
            &|_| true,
        );
        let share = |prefix: &str| {
            let ann = g.index("ann").unwrap();
            let query = q(prefix, Some("page-1"));
            let since = Timestamp(i64::MIN);
            let scale = scale_ties(&g, ann, &query, since, Timestamp(DAY), SCALE_TIES);
            let c = mention_candidates(&g, ann, &query, &|_| true, since, &scale);
            let (_, out) = rank_mentions(&g, ann, &query, &c, &|_| true, Timestamp(DAY), 10);
            let ben = out.iter().find(|s| s.person == "ben").unwrap();
            ben.signals[0].score
        };
        assert!((share("") - 0.5).abs() < 1e-9, "half of Dan's");
        assert!((share("b") - 0.5).abs() < 1e-9, "still half of Dan's");
    }

    /// A strongest tie weaker than one interaction a month old is not stretched to full
    /// strength: after ten months of silence, the page's author comes before it.
    #[test]
    fn a_faded_strongest_tie_is_not_stretched() {
        let mut g = graph();
        mention(&mut g, "ann", "ben", 0);
        g.apply(
            &event(serde_json::json!({"id": "c1", "type": "content.created", "at": Timestamp(300 * DAY).to_string(),
                "actor": "bob", "object": {"id": "page-1"}})),
            &|_| true,
        );
        assert_eq!(
            ranked(&g, &q("b", Some("page-1")), 300 * DAY, &|_| true)[..3],
            ["bob", "bea", "ben"]
        );
        // A month on, a single tie still counts in full.
        assert_eq!(
            ranked(&g, &q("b", Some("page-1")), 25 * DAY, &|_| true)[..2],
            ["ben", "bob"]
        );
    }

    #[test]
    fn people_who_cannot_see_the_context_are_left_out_or_flagged() {
        let mut g = graph();
        g.apply(
            &event(serde_json::json!({"id": "c1", "type": "content.created", "at": Timestamp(0).to_string(),
                "actor": "ann", "object": {"id": "secret", "visibility": {"members": ["eng", "cat"]}}})),
            &|_| true,
        );
        mention(&mut g, "ann", "ben", 0);
        let visible = ranked(&g, &q("", Some("secret")), 0, &|_| true);
        assert!(visible.contains(&"bea".to_owned()) && visible.contains(&"cat".to_owned()));
        assert!(!visible.contains(&"ben".to_owned()));
        let ann = g.index("ann").unwrap();
        let mut query = q("", Some("secret"));
        query.include_invitees = true;
        let c = mention_candidates(&g, ann, &query, &|_| true, Timestamp(i64::MIN), &[]);
        let (_, all) = rank_mentions(&g, ann, &query, &c, &|_| true, Timestamp(0), 10);
        let ben = all.iter().find(|s| s.person == "ben").unwrap();
        assert!(!ben.can_see_context);
        assert!(all.last().is_some_and(|s| !s.can_see_context));
    }

    #[test]
    fn reasons_count_mentions_over_the_last_weeks_only() {
        let mut g = graph();
        // Timestamp(0) is a Thursday; day 4 the Monday after.
        mention(&mut g, "ann", "ben", 0);
        for k in 0..12 {
            mention(&mut g, "ben", "ann", 40 * DAY + k * 60_000);
        }
        let (ann, ben) = (g.index("ann").unwrap(), g.index("ben").unwrap());
        let tie = *g.affinity.tie(ann, ben).unwrap();
        assert_eq!(
            tie_reasons(&tie, Timestamp(41 * DAY)),
            [
                "mentioned you 12 times since 1970-01-12",
                "last contact on 1970-02-10",
            ],
            "ann's mention on day 0 lies before the window and is not counted"
        );
    }
}
