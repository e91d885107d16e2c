//! `basis eval mentions --enron DIR`: @mention suggestion quality on the Enron interactions.
//!
//! Protocol (the data set's README): messages in time order, the first 80% replayed into the
//! affinity graph; then for each later message the sender's suggestions (empty prefix, no context)
//! are ranked over the other employees before its recipients are revealed, and the message is
//! ingested. Reported: MRR, MAP and Recall@5, beside recency and frequency baselines computed in
//! the same run.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use basis_core::Timestamp;
use basis_core::affinity::{AffinityGraph, AffinityParams, Interaction};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Recipient prediction on the Enron data set.
    Mentions {
        /// Folder with employees.tsv, messages.tsv, recipients.tsv.
        #[arg(long)]
        enron: std::path::PathBuf,
    },
}

struct Message {
    at: Timestamp,
    id: u32,
    sender: u32,
    recipients: Vec<u32>,
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

fn load(dir: &Path) -> anyhow::Result<(Vec<u32>, Vec<Message>)> {
    let employees: Vec<u32> = read_tsv(&dir.join("employees.tsv"))?
        .iter()
        .map(|row| {
            row.first()
                .and_then(|id| id.parse().ok())
                .context("employees.tsv: bad id")
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
        });
    }
    messages.sort_by_key(|m| (m.at, m.id));
    Ok((employees, messages))
}

/// Runs the protocol with one ranking: `rank(sender, at)` orders candidates, `learn(message)`
/// updates after each message.
fn evaluate(
    employees: &[u32],
    messages: &[Message],
    mut rank: impl FnMut(u32, Timestamp) -> Vec<u32>,
    mut learn: impl FnMut(&Message),
) -> Quality {
    let cut = messages.len() * 8 / 10;
    for m in &messages[..cut] {
        learn(m);
    }
    let _ = employees;
    let mut q = Quality::default();
    for m in &messages[cut..] {
        let truth: Vec<u32> = m
            .recipients
            .iter()
            .copied()
            .filter(|r| *r != m.sender)
            .collect();
        if !truth.is_empty() {
            let ranked = rank(m.sender, m.at);
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

/// The three rankings on the data in `dir`: recency, frequency, Basis.
pub fn mentions(dir: &Path) -> anyhow::Result<[(&'static str, Quality); 3]> {
    let (employees, messages) = load(dir)?;
    let last: std::cell::RefCell<HashMap<(u32, u32), i64>> = std::cell::RefCell::default();
    let recency = evaluate(
        &employees,
        &messages,
        |s, _| {
            order(&employees, s, |e| {
                last.borrow().get(&(s, e)).map_or(-1.0, |t| *t as f64)
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
        &employees,
        &messages,
        |s, _| {
            order(&employees, s, |e| {
                f64::from(count.borrow().get(&(s, e)).copied().unwrap_or(0))
            })
        },
        |m| {
            for r in &m.recipients {
                *count.borrow_mut().entry((m.sender, *r)).or_default() += 1;
            }
        },
    );
    let graph = std::cell::RefCell::new(AffinityGraph::new(AffinityParams::default()));
    let basis = evaluate(
        &employees,
        &messages,
        |s, at| {
            let g = graph.borrow();
            g.rank(s, &employees, at)
                .into_iter()
                .map(|(e, _)| e)
                .collect()
        },
        |m| {
            let mut g = graph.borrow_mut();
            for r in &m.recipients {
                g.record(m.sender, *r, m.at, Interaction::Message);
            }
        },
    );
    Ok([
        ("recency", recency),
        ("frequency", frequency),
        ("basis", basis),
    ])
}

pub fn run(command: EvalCommand) -> anyhow::Result<()> {
    match command {
        EvalCommand::Mentions { enron } => {
            let results = mentions(&enron)?;
            println!(
                "{:<10} {:>6} {:>6} {:>9}  ({} test messages)",
                "ranking", "MRR", "MAP", "Recall@5", results[0].1.messages
            );
            for (name, q) in results {
                println!(
                    "{name:<10} {:>6.3} {:>6.3} {:>9.3}",
                    q.mrr, q.map, q.recall_at_5
                );
            }
            Ok(())
        }
    }
}
