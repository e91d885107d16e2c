//! `basis eval mentions --enron DIR`: @mention suggestion quality on the Enron interactions.
//!
//! Protocol (the data set's README): messages in time order, the first 80% replayed into the
//! affinity graph; then for each later message the sender's suggestions (empty prefix, no context)
//! are ranked over the other employees before its recipients are revealed, and the message is
//! ingested. Reported: MRR, MAP and Recall@5, beside recency and frequency baselines computed in
//! the same run.
//!
//! Basis ranks through the product's own path: each message is a `message.sent` event applied to
//! the interaction graph ([`TenantGraph::apply`]), and suggestions come from the same candidate
//! gathering and ranking the API uses (everyone allowed by the gate here); people the ranking
//! has no signal for follow in id order, as the protocol ranks every employee. A second line
//! gives the thread (the subject without `Re:`/`Fw:`) as the context, so earlier participants of
//! the thread get the context boost — outside the data set's protocol, labelled as such.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use basis_core::Timestamp;
use basis_core::affinity::AffinityParams;
use basis_core::event::{Event, Object};
use basis_core::person::PersonInput;
use basis_engine::graph::TenantGraph;
use basis_engine::intelligence::{MentionQuery, mention_candidates, rank_mentions};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Recipient prediction on the Enron data set.
    Mentions {
        /// Folder with employees.tsv, messages.tsv, recipients.tsv.
        #[arg(long)]
        enron: std::path::PathBuf,
        /// Which messages are ranked: `test` (the protocol: the last 20% after replaying the
        /// first 80%) or `validation` (60-80% after replaying the first 60%: where weights are
        /// chosen, so the test part is never used to choose them).
        #[arg(long, value_enum, default_value_t = Part::Test)]
        part: Part,
    },
}

/// The messages a run ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Replay 0-80%, rank 80-100% (the protocol).
    Test,
    /// Replay 0-60%, rank 60-80% (for choosing weights).
    Validation,
}

impl Part {
    /// (first ranked, end) in `len` messages.
    fn range(self, len: usize) -> (usize, usize) {
        match self {
            Part::Test => (len * 8 / 10, len),
            Part::Validation => (len * 6 / 10, len * 8 / 10),
        }
    }
}

struct Message {
    at: Timestamp,
    id: u32,
    sender: u32,
    recipients: Vec<u32>,
    thread: Option<String>,
}

/// The thread a subject belongs to: reply and forward prefixes stripped, case folded.
fn thread_of(subject: &str) -> Option<String> {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let Some(prefix) = ["re:", "fw:", "fwd:"]
            .iter()
            .find(|p| lower.starts_with(**p))
        else {
            break;
        };
        s = s[prefix.len()..].trim_start();
    }
    let s = s.trim().to_lowercase();
    (!s.is_empty()).then_some(s)
}

/// An employee as the product would know them.
struct Employee {
    id: u32,
    name: String,
    department: String,
    title: String,
}

/// Quality figures.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quality {
    /// Mean reciprocal rank of the first recipient found.
    pub mrr: f64,
    /// Mean average precision.
    pub map: f64,
    /// Mean share of recipients in the top five.
    pub recall_at_5: f64,
    /// Messages evaluated.
    pub messages: usize,
}

fn read_tsv(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect())
}

fn load(dir: &Path) -> anyhow::Result<(Vec<Employee>, Vec<Message>)> {
    let employees: Vec<Employee> = read_tsv(&dir.join("employees.tsv"))?
        .iter()
        .map(|row| {
            let id = row
                .first()
                .and_then(|id| id.parse().ok())
                .context("employees.tsv: bad id")?;
            let field = |i: usize| row.get(i).cloned().unwrap_or_default();
            Ok(Employee {
                id,
                name: field(1),
                department: field(2),
                title: field(4),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let mut recipients: HashMap<u32, Vec<u32>> = HashMap::new();
    for row in read_tsv(&dir.join("recipients.tsv"))? {
        let (Some(m), Some(r)) = (
            row.first().and_then(|v| v.parse().ok()),
            row.get(2).and_then(|v| v.parse().ok()),
        ) else {
            bail!("recipients.tsv: bad row {row:?}");
        };
        recipients.entry(m).or_default().push(r);
    }
    let mut messages = Vec::new();
    for row in read_tsv(&dir.join("messages.tsv"))? {
        let (Some(id), Some(at), Some(sender)) = (
            row.first().and_then(|v| v.parse::<u32>().ok()),
            row.get(2).and_then(|v| v.parse::<i64>().ok()),
            row.get(4).and_then(|v| v.parse::<u32>().ok()),
        ) else {
            bail!("messages.tsv: bad row {row:?}");
        };
        messages.push(Message {
            at: Timestamp(at * 1_000),
            id,
            sender,
            recipients: recipients.remove(&id).unwrap_or_default(),
            thread: row.get(3).and_then(|s| thread_of(s)),
        });
    }
    messages.sort_by_key(|m| (m.at, m.id));
    Ok((employees, messages))
}

/// Runs the protocol with one ranking: `rank(message)` orders candidates knowing only the
/// message's sender, time and thread; `learn(message)` updates after each message.
fn evaluate(
    messages: &[Message],
    part: Part,
    mut rank: impl FnMut(&Message) -> Vec<u32>,
    mut learn: impl FnMut(&Message),
) -> Quality {
    let (cut, end) = part.range(messages.len());
    for m in &messages[..cut] {
        learn(m);
    }
    let mut q = Quality::default();
    for m in &messages[cut..end] {
        let truth: Vec<u32> = m
            .recipients
            .iter()
            .copied()
            .filter(|r| *r != m.sender)
            .collect();
        if !truth.is_empty() {
            let ranked = rank(m);
            let positions: Vec<usize> = ranked
                .iter()
                .enumerate()
                .filter(|(_, c)| truth.contains(c))
                .map(|(i, _)| i + 1)
                .collect();
            if let Some(first) = positions.first() {
                q.mrr += 1.0 / *first as f64;
            }
            let distinct = {
                let mut t = truth.clone();
                t.sort_unstable();
                t.dedup();
                t.len()
            };
            q.map += positions
                .iter()
                .enumerate()
                .map(|(j, p)| (j + 1) as f64 / *p as f64)
                .sum::<f64>()
                / distinct as f64;
            q.recall_at_5 += positions.iter().filter(|p| **p <= 5).count() as f64 / distinct as f64;
            q.messages += 1;
        }
        learn(m);
    }
    let n = q.messages.max(1) as f64;
    Quality {
        mrr: q.mrr / n,
        map: q.map / n,
        recall_at_5: q.recall_at_5 / n,
        messages: q.messages,
    }
}

fn order(employees: &[u32], sender: u32, score: impl Fn(u32) -> f64) -> Vec<u32> {
    let mut scored: Vec<(u32, f64)> = employees
        .iter()
        .copied()
        .filter(|e| *e != sender)
        .map(|e| (e, score(e)))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.into_iter().map(|(e, _)| e).collect()
}

/// The product's ranking for `sender` at `at`, with an optional context, using only ties
/// touched within the `mentions` purpose's retention period before `at`, as the engine does;
/// then everyone else in id order.
fn product_rank(
    g: &TenantGraph,
    ids: &[u32],
    sender: u32,
    at: Timestamp,
    mentions: &basis_core::Purpose,
    context: Option<&str>,
) -> Vec<u32> {
    let Some(asker) = g.index(&format!("e{sender}")) else {
        return ids.iter().copied().filter(|e| *e != sender).collect();
    };
    let q = MentionQuery {
        prefix: String::new(),
        context: context.map(str::to_owned),
        limit: ids.len(),
        include_invitees: false,
    };
    let since = mentions.retained_since(at);
    // An empty prefix: every tie is a candidate, none needed for the scale.
    let candidates = mention_candidates(g, asker, &q, &|_| true, since, &[]);
    let (_, ranked) = rank_mentions(g, asker, &q, &candidates, &|_| true, at, ids.len());
    let mut out: Vec<u32> = ranked
        .iter()
        .filter_map(|s| s.person.strip_prefix('e')?.parse().ok())
        .collect();
    let placed: std::collections::HashSet<u32> = out.iter().copied().collect();
    out.extend(
        ids.iter()
            .copied()
            .filter(|e| *e != sender && !placed.contains(e)),
    );
    out
}

/// A message as the event the product would ingest (the thread as its object when known).
fn as_event(m: &Message) -> Event {
    Event {
        id: format!("m{}", m.id),
        kind: "message.sent".into(),
        at: m.at,
        source: Some("email".into()),
        actor: Some(format!("e{}", m.sender)),
        object: m.thread.as_ref().map(|t| Object {
            id: format!("thread:{t}"),
            kind: Some("thread".into()),
            title: None,
            body: None,
            url: None,
            container: None,
            visibility: None,
        }),
        mentions: m.recipients.iter().map(|r| format!("e{r}")).collect(),
        assignee: None,
        member: None,
        query: None,
        context: None,
        data: None,
    }
}

/// The rankings on the data in `dir`: recency, frequency, Basis, and Basis given the thread.
pub fn mentions(dir: &Path, part: Part) -> anyhow::Result<[(&'static str, Quality); 4]> {
    let (employees, messages) = load(dir)?;
    let ids: Vec<u32> = employees.iter().map(|e| e.id).collect();
    let last: std::cell::RefCell<HashMap<(u32, u32), i64>> = std::cell::RefCell::default();
    let recency = evaluate(
        &messages,
        part,
        |m| {
            order(&ids, m.sender, |e| {
                last.borrow()
                    .get(&(m.sender, e))
                    .map_or(-1.0, |t| *t as f64)
            })
        },
        |m| {
            for r in &m.recipients {
                last.borrow_mut().insert((m.sender, *r), m.at.0);
                last.borrow_mut().insert((*r, m.sender), m.at.0);
            }
        },
    );
    let count: std::cell::RefCell<HashMap<(u32, u32), u32>> = std::cell::RefCell::default();
    let frequency = evaluate(
        &messages,
        part,
        |m| {
            order(&ids, m.sender, |e| {
                f64::from(count.borrow().get(&(m.sender, e)).copied().unwrap_or(0))
            })
        },
        |m| {
            for r in &m.recipients {
                *count.borrow_mut().entry((m.sender, *r)).or_default() += 1;
            }
        },
    );
    let fresh_graph = || -> anyhow::Result<_> {
        let mut g = TenantGraph::new(AffinityParams::default());
        for e in &employees {
            let input = PersonInput {
                name: Some(e.name.clone()),
                job_title: Some(e.title.clone()),
                department: Some(e.department.clone()),
                ..PersonInput::default()
            };
            let person = input
                .into_person(&format!("e{}", e.id))
                .map_err(|errors| anyhow::anyhow!("employee {}: {errors:?}", e.id))?;
            g.put_person(&person);
        }
        Ok(std::cell::RefCell::new(g))
    };
    // The mentions purpose's retention period bounds the ties used, as in the engine.
    let policy = basis_core::Policy::default_policy()?;
    let mentions = policy
        .purpose_by_key(basis_engine::graph::MENTIONS)
        .context("the default policy has the mentions purpose")?;
    let mut results = Vec::new();
    for with_thread in [false, true] {
        let graph = fresh_graph()?;
        let quality = evaluate(
            &messages,
            part,
            |m| {
                let context = m
                    .thread
                    .as_ref()
                    .filter(|_| with_thread)
                    .map(|t| format!("thread:{t}"));
                product_rank(
                    &graph.borrow(),
                    &ids,
                    m.sender,
                    m.at,
                    mentions,
                    context.as_deref(),
                )
            },
            |m| graph.borrow_mut().apply(&as_event(m), &|_| true),
        );
        results.push(quality);
    }
    Ok([
        ("recency", recency),
        ("frequency", frequency),
        ("basis", results[0]),
        ("basis+thread", results[1]),
    ])
}

pub fn run(command: EvalCommand) -> anyhow::Result<()> {
    match command {
        EvalCommand::Mentions { enron, part } => {
            let results = mentions(&enron, part)?;
            let what = match part {
                Part::Test => "test messages",
                Part::Validation => "validation messages: 60-80%, not the test part",
            };
            println!(
                "{:<13} {:>6} {:>6} {:>9}  ({} {what})",
                "ranking", "MRR", "MAP", "Recall@5", results[0].1.messages
            );
            for (name, q) in results {
                println!(
                    "{name:<13} {:>6.4} {:>6.4} {:>9.4}",
                    q.mrr, q.map, q.recall_at_5
                );
            }
            println!(
                "basis+thread gives the thread (subject without Re:/Fw:) as the context: outside the data set's protocol"
            );
            Ok(())
        }
    }
}
