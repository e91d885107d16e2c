//! `basis bench mentions`: @mention suggestions on a synthetic workspace (100,000 people and
//! 10,000,000 interactions by default) — latency of the in-memory graph against the same
//! affinity ranking computed by a SQL aggregation over the interaction rows in SQLite, in the same
//! run; the graph's memory per person and per tie; update throughput.
//!
//! The graph side runs the engine's ranking path in process: candidate gathering, one gate
//! decision per tied candidate on the person's state from the engine's subject cache (warm),
//! counted in the ledger as one batch, ranking with team,
//! prefix and organization signals, explanations. Not included: HTTP, the asker's profile read
//! and the metrics counters the engine also updates per decision. The SQL side ranks by affinity only (decayed sums both ways plus the
//! burst term) over people matching the prefix — strictly less work. SQLite as bundled has no
//! `exp()`, so rows store forward-decayed weights (`w · e^{λ(at − landmark)}`, Cormode et al.'s
//! forward decay): the SQL sums them per candidate and takes the last contact, and the burst
//! term and final order of those few rows are computed on the client, inside the timing.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use basis_core::affinity::{AffinityParams, Interaction};
use basis_core::person::PersonInput;
use basis_core::{Policy, SubjectState, Timestamp, decide};
use basis_engine::graph::{AFFILIATION, MENTIONS, SWEEP_SLICE, SweepAt, Swept, TenantGraph};
use basis_engine::intelligence::{
    MentionQuery, SCALE_TIES, explain, indices, mention_candidates, rank_mentions, scale_ties,
    tied_candidates,
};
use basis_engine::subjects::SubjectCache;
use basis_engine::{Counted, Ledger};
use sqlx::{AssertSqlSafe, Connection, Row};

/// A small, seeded generator (xorshift64*): the same workspace every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Roughly Zipf-distributed index below `n` (small indices more likely).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize % n.max(1)
    }
}

const FIRST: &[&str] = &[
    "Ada",
    "Adrian",
    "Aisha",
    "Akira",
    "Alba",
    "Alejandro",
    "Amara",
    "Anders",
    "Ann",
    "Arjun",
    "Astrid",
    "Ben",
    "Bianca",
    "Bo",
    "Carla",
    "Chen",
    "Chloe",
    "Dana",
    "Daniel",
    "Dev",
    "Elena",
    "Emil",
    "Eva",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jana",
    "Javier",
    "Jin",
    "Jonas",
    "Julia",
    "Kai",
    "Karin",
    "Lars",
    "Lea",
    "Leila",
    "Liam",
    "Lina",
    "Luca",
    "Maya",
    "Mei",
    "Mia",
    "Nadia",
    "Noah",
    "Nora",
    "Olga",
    "Omar",
    "Paula",
    "Priya",
    "Rafael",
    "Rosa",
    "Sara",
    "Sofia",
    "Tariq",
    "Theo",
    "Tomás",
    "Uma",
    "Vera",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoë",
];
const LAST: &[&str] = &[
    "Abe",
    "Ahmed",
    "Alvarez",
    "Andersen",
    "Bauer",
    "Becker",
    "Brown",
    "Castro",
    "Chen",
    "Costa",
    "Dahl",
    "Diaz",
    "Dubois",
    "Eriksson",
    "Fischer",
    "García",
    "Gupta",
    "Hansen",
    "Hoffmann",
    "Ito",
    "Jansen",
    "Kim",
    "Kowalski",
    "Kumar",
    "Larsen",
    "Lee",
    "López",
    "Martin",
    "Meyer",
    "Müller",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Park",
    "Patel",
    "Pereira",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Suzuki",
    "Tanaka",
    "Wagner",
    "Wang",
    "Weber",
    "Wilson",
    "Yamamoto",
    "Zhang",
    "Åkesson",
    "Ødegaard",
];

/// Collaborators each person mostly interacts with.
const CIRCLE: usize = 60;
/// Share of interactions with someone outside the circle.
const STRANGERS: usize = 10;

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The affinity ranking alone, as the SQL computes it: `asker`'s ties whose names match the
/// prefix, best ten by tie score (ties by index).
fn affinity_top10(g: &TenantGraph, asker: u32, prefix: &str, now: Timestamp) -> Vec<u32> {
    let words = basis_core::text::Prefix::words(prefix);
    let mut top: Vec<(f64, u32)> = g
        .affinity
        .ties(asker)
        .iter()
        .filter(|t| g.matches(t.to, &words))
        .map(|t| (g.affinity.tie_score(t, now), t.to))
        .collect();
    top.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    top.into_iter().take(10).map(|(_, i)| i).collect()
}

/// Synthetic interactions: (from, to, at seconds, kind), in time order over the past year.
fn interactions(
    people: usize,
    count: usize,
    now_s: i64,
    rng: &mut Rng,
) -> Vec<(u32, u32, i64, Interaction)> {
    const KINDS: [(Interaction, usize); 5] = [
        (Interaction::Mention, 50),
        (Interaction::Comment, 20),
        (Interaction::CoEdit, 15),
        (Interaction::Assignment, 10),
        (Interaction::Membership, 5),
    ];
    let span = 365 * 86_400;
    (0..count)
        .map(|k| {
            let from = rng.below(people);
            let to = if rng.below(100) < STRANGERS {
                rng.below(people)
            } else {
                // Circles overlap: neighbours by index, the closest most often.
                (from + 1 + rng.skewed(CIRCLE)) % people
            };
            let mut pick = rng.below(100);
            let kind = KINDS
                .iter()
                .find(|(_, share)| {
                    if pick < *share {
                        true
                    } else {
                        pick -= share;
                        false
                    }
                })
                .map_or(Interaction::Mention, |(k, _)| *k);
            let at = now_s - span + (k as i64 * span / count.max(1) as i64);
            (from as u32, to as u32, at, kind)
        })
        .collect()
}

/// Runs the benchmark.
pub async fn mentions(
    people: usize,
    count: usize,
    queries: usize,
    sql_queries: usize,
) -> anyhow::Result<()> {
    if people < 100 || count == 0 || queries == 0 {
        bail!("`--people` must be at least 100, `--interactions` and `--queries` positive");
    }
    let mut rng = Rng(0x5EED_BA515);
    let now = Timestamp::parse("2026-12-01T00:00:00Z").map_err(|e| anyhow::anyhow!("{e}"))?;
    let now_s = now.0 / 1_000;
    let names: Vec<String> = (0..people)
        .map(|_| {
            format!(
                "{} {}",
                FIRST[rng.below(FIRST.len())],
                LAST[rng.below(LAST.len())]
            )
        })
        .collect();
    let rows = interactions(people, count, now_s, &mut rng);
    eprintln!("workspace: {people} people, {count} interactions");

    // --- the graph ---------------------------------------------------------------------
    let rss_before = rss_bytes();
    let mut g = TenantGraph::new(AffinityParams::default());
    for (i, name) in names.iter().enumerate() {
        let input = PersonInput {
            name: Some(name.clone()),
            email: Some(format!("u{i}@example.com")),
            department: Some(format!("dept-{}", i / 1_000)),
            teams: vec![format!("team-{}", i / 10)],
            country: Some("DE".into()),
            ..PersonInput::default()
        };
        let person = input
            .into_person(&format!("u{i}"))
            .map_err(|errors| anyhow::anyhow!("person u{i}: {errors:?}"))?;
        g.put_person(&person);
    }
    let started = Instant::now();
    for (from, to, at, kind) in &rows {
        g.affinity.record(*from, *to, Timestamp(at * 1_000), *kind);
    }
    let update = started.elapsed();
    let rss_after = rss_bytes();
    let (tie_bytes, directory_bytes, _) = g.heap_bytes();
    let ties = g.affinity.len();
    println!(
        "updates: {:.2} M interactions/s ({count} in {:.2} s)",
        count as f64 / update.as_secs_f64() / 1e6,
        update.as_secs_f64()
    );
    println!(
        "memory: {ties} ties ({} pairs); {:.1} bytes per tie, {:.0} bytes of directory per person; process grew {:.0} MB ({:.0} bytes per interaction)",
        ties / 2,
        tie_bytes as f64 / ties.max(1) as f64,
        directory_bytes as f64 / people as f64,
        (rss_after.saturating_sub(rss_before)) as f64 / 1e6,
        (rss_after.saturating_sub(rss_before)) as f64 / count as f64,
    );

    // Gate decisions as the engine takes them on a cache hit.
    let policy = Policy::default_policy().context("default policy")?;
    let purpose = policy.purpose_id(MENTIONS).context("mentions purpose")?;
    let org_purpose = policy
        .purpose_id(AFFILIATION)
        .context("affiliation purpose")?;
    let state = SubjectState::active(policy.jurisdiction_of(Some("DE")), Timestamp(0));
    // The purpose's retention period, as the engine applies it (the year of synthetic
    // interactions lies inside it, so the SQL needs no such bound to agree).
    let since = policy
        .purpose_by_key(MENTIONS)
        .context("mentions purpose")?
        .retained_since(now);
    let ledger = Ledger::default();
    // The engine's subject cache, warm: one state per person.
    let subjects = SubjectCache::default();
    for i in 0..people {
        subjects.put("bench", &format!("u{i}"), state.clone());
    }
    let prefixes: Vec<(u32, String)> = (0..queries)
        .map(|_| {
            let asker = rng.below(people) as u32;
            let target = &names[rng.below(people)];
            let prefix: String = target.chars().take(2).collect();
            (asker, prefix)
        })
        .collect();
    // As the engine's batch: each person decided on their cached state, counted in one go.
    let gate_many = |people: &[String], id, name: &str| -> Vec<bool> {
        let decided: Vec<Counted<'_>> = people
            .iter()
            .zip(subjects.cached_many("bench", people))
            .map(|(p, cached)| {
                let d = decide(&policy, cached.as_deref().unwrap_or(&state), id, now);
                Counted {
                    subject: p,
                    basis: d.basis,
                    allowed: d.allowed,
                }
            })
            .collect();
        ledger.record_many("bench", name, now, decided.iter().copied());
        decided.iter().map(|d| d.allowed).collect()
    };
    let run = |asker: u32, prefix: &str| {
        let q = MentionQuery {
            prefix: prefix.to_owned(),
            context: None,
            limit: 10,
            include_invitees: false,
        };
        // As the engine does: the tied people's ids out of the graph, a gate decision for
        // each, counted in one batch; the allowed ones back as indices under the ranking's read.
        let scale = scale_ties(&g, asker, &q, since, now, SCALE_TIES);
        let tied: Vec<String> = tied_candidates(&g, asker, &q, since, &scale)
            .into_iter()
            .map(|c| g.id(c).to_owned())
            .collect();
        let allowed: std::collections::HashSet<String> = tied
            .iter()
            .zip(gate_many(&tied, purpose, MENTIONS))
            .filter(|(_, ok)| *ok)
            .map(|(p, _)| p.clone())
            .collect();
        let usable = indices(&g, &allowed);
        let tie_ok = |i: u32| usable.binary_search(&i).is_ok();
        let candidates = mention_candidates(&g, asker, &q, &tie_ok, since, &scale);
        let (_, mut out) = rank_mentions(&g, asker, &q, &candidates, &tie_ok, now, 30);
        // The engine's organization step: affiliation asked of the writer and each same-org
        // person in the leading window.
        let affiliation = decide(&policy, &state, org_purpose, now);
        ledger.record(
            "bench",
            g.id(asker),
            AFFILIATION,
            affiliation.basis,
            now,
            affiliation.allowed,
        );
        let same: Vec<String> = out
            .iter()
            .filter(|s| s.same_organization())
            .map(|s| s.person.clone())
            .collect();
        let same_ok = gate_many(&same, org_purpose, AFFILIATION);
        if affiliation.allowed {
            for s in out.iter_mut() {
                if same
                    .iter()
                    .zip(&same_ok)
                    .any(|(p, ok)| *ok && *p == s.person)
                {
                    s.score += basis_engine::intelligence::SAME_ORGANIZATION;
                }
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out.truncate(10);
        explain(&mut out, now);
        out
    };
    let mut graph_times = Vec::with_capacity(queries);
    for (asker, prefix) in &prefixes {
        let t = Instant::now();
        std::hint::black_box(run(*asker, prefix));
        graph_times.push(t.elapsed());
    }
    let mut empty_times = Vec::with_capacity(queries);
    for (asker, _) in &prefixes {
        let t = Instant::now();
        std::hint::black_box(run(*asker, ""));
        empty_times.push(t.elapsed());
    }
    // The ranking alone, as the SQL computes it: ties matching the prefix, no gate, no ledger,
    // no explanations.
    let mut bare_times = Vec::with_capacity(queries);
    for (asker, prefix) in &prefixes {
        let t = Instant::now();
        std::hint::black_box(affinity_top10(&g, *asker, prefix, now));
        bare_times.push(t.elapsed());
    }
    graph_times.sort_unstable();
    empty_times.sort_unstable();
    bare_times.sort_unstable();

    let (sql_times, agree, compared) = if sql_queries == 0 {
        (Vec::new(), 0, 0)
    } else {
        sql_baseline(&g, &rows, &names, &prefixes, sql_queries, now).await?
    };
    let sql_n = sql_times.len();
    let (g50, g99) = (
        percentile(&graph_times, 0.5),
        percentile(&graph_times, 0.99),
    );
    let (s50, s99) = (percentile(&sql_times, 0.5), percentile(&sql_times, 0.99));
    println!(
        "graph, gated ranking path, 2-letter prefix ({queries} queries): p50 {:.1} µs, p99 {:.1} µs",
        micros(g50),
        micros(g99)
    );
    println!(
        "graph, empty prefix: p50 {:.1} µs, p99 {:.1} µs",
        micros(percentile(&empty_times, 0.5)),
        micros(percentile(&empty_times, 0.99))
    );
    println!(
        "SQLite aggregation, same prefixes ({sql_n} queries): p50 {:.1} µs, p99 {:.1} µs",
        micros(s50),
        micros(s99)
    );
    let (b50, b99) = (percentile(&bare_times, 0.5), percentile(&bare_times, 0.99));
    println!(
        "graph, the same affinity ranking as the SQL (no gate, ledger or explanations): p50 {:.1} µs, p99 {:.1} µs",
        micros(b50),
        micros(b99)
    );
    println!(
        "ratio SQL / gated ranking path: p50 {:.0}x, p99 {:.0}x; SQL / same ranking on the graph: p50 {:.0}x, p99 {:.0}x",
        s50.as_secs_f64() / g50.as_secs_f64().max(1e-12),
        s99.as_secs_f64() / g99.as_secs_f64().max(1e-12),
        s50.as_secs_f64() / b50.as_secs_f64().max(1e-12),
        s99.as_secs_f64() / b99.as_secs_f64().max(1e-12),
    );
    println!("the SQL top 10 equals the graph's tie ranking on {agree} of {compared} queries");

    // The retention sweep goes in slices, each under the graph's write lock, as the engine's:
    // the hourly pass that finds nothing to forget, then one that forgets the older half of
    // the year.
    let slices = |cutoff: Timestamp, g: &mut TenantGraph| {
        let (mut at, mut swept) = (SweepAt::default(), Swept::default());
        let mut longest = Duration::ZERO;
        let t = Instant::now();
        loop {
            let slice = Instant::now();
            let done = g.forget_some_before(cutoff, &mut at, SWEEP_SLICE, &mut swept);
            longest = longest.max(slice.elapsed());
            if done {
                return (swept, t.elapsed(), longest);
            }
        }
    };
    let (nothing, idle, idle_slice) = slices(Timestamp((now_s - 395 * 86_400) * 1_000), &mut g);
    let (half, forgetting, forgetting_slice) =
        slices(Timestamp((now_s - 182 * 86_400) * 1_000), &mut g);
    println!(
        "retention sweep over {ties} ties: {:.0} ms finding nothing to forget ({} forgotten; longest slice {:.1} ms), {:.0} ms forgetting {} ties (longest slice {:.1} ms)",
        idle.as_secs_f64() * 1e3,
        nothing.ties,
        idle_slice.as_secs_f64() * 1e3,
        forgetting.as_secs_f64() * 1e3,
        half.ties,
        forgetting_slice.as_secs_f64() * 1e3,
    );
    Ok(())
}

/// The same affinity ranking as a SQL aggregation over the interaction rows; the timings (sorted)
/// and how many answers equal the graph's.
async fn sql_baseline(
    g: &TenantGraph,
    rows: &[(u32, u32, i64, Interaction)],
    names: &[String],
    prefixes: &[(u32, String)],
    sql_queries: usize,
    now: Timestamp,
) -> anyhow::Result<(Vec<Duration>, usize, usize)> {
    let now_s = now.0 / 1_000;
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let mut conn = sqlx::SqliteConnection::connect(&url).await?;
    for sql in [
        "PRAGMA journal_mode = OFF",
        "PRAGMA synchronous = OFF",
        "CREATE TABLE interactions (src INTEGER NOT NULL, dst INTEGER NOT NULL, at INTEGER NOT NULL, w REAL NOT NULL)",
        "CREATE TABLE names (token TEXT NOT NULL, person INTEGER NOT NULL)",
    ] {
        sqlx::query(sql).execute(&mut conn).await?;
    }
    let params = AffinityParams::default();
    let lambda = params.decay_per_second();
    let landmark = now_s - 366 * 86_400;
    let loading = Instant::now();
    let mut tx = conn.begin().await?;
    for chunk in rows.chunks(500) {
        let mut sql = String::from("INSERT INTO interactions (src, dst, at, w) VALUES ");
        for (k, (from, to, at, kind)) in chunk.iter().enumerate() {
            if k > 0 {
                sql.push(',');
            }
            let forward = kind.weight() * (lambda * (at - landmark) as f64).exp();
            sql.push_str(&format!("({from},{to},{at},{forward:e})"));
        }
        // Only numbers are formatted in.
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    for (i, name) in names.iter().enumerate() {
        for w in basis_core::text::words(name).chain(std::iter::once(format!("u{i}"))) {
            sqlx::query("INSERT INTO names (token, person) VALUES (?, ?)")
                .bind(w)
                .bind(i as i64)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    for sql in [
        "CREATE INDEX interactions_src ON interactions (src, dst, at, w)",
        "CREATE INDEX interactions_dst ON interactions (dst, src, at, w)",
        "CREATE INDEX names_token ON names (token, person)",
        "ANALYZE",
    ] {
        sqlx::query(sql).execute(&mut conn).await?;
    }
    eprintln!(
        "SQLite loaded and indexed in {:.1} s",
        loading.elapsed().as_secs_f64()
    );

    let sql = format!(
        "WITH m AS (SELECT DISTINCT person FROM names WHERE token >= ?1 AND token < ?2), \
         e AS (SELECT dst AS other, w AS s, at FROM interactions WHERE src = ?3 \
               UNION ALL \
               SELECT src AS other, {inbound} * w AS s, at FROM interactions WHERE dst = ?3) \
         SELECT other, SUM(s) AS forward, MAX(at) AS last FROM e \
         WHERE other IN m AND other <> ?3 GROUP BY other",
        inbound = params.inbound_weight,
    );
    let decay_now = (-lambda * (now_s - landmark) as f64).exp();
    let sql_n = sql_queries.min(prefixes.len());
    let mut sql_times = Vec::with_capacity(sql_n);
    let mut agree = 0usize;
    let mut compared = 0usize;
    for (k, (asker, prefix)) in prefixes.iter().take(sql_n).enumerate() {
        let low = basis_core::text::fold(prefix);
        let high = format!("{low}\u{10FFFF}");
        let t = Instant::now();
        let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(&low)
            .bind(&high)
            .bind(i64::from(*asker))
            .fetch_all(&mut conn)
            .await
            .context("SQL ranking")?;
        let mut scored: Vec<(f64, u32)> = rows
            .iter()
            .map(|r| {
                let forward: f64 = r.try_get("forward")?;
                let last: i64 = r.try_get("last")?;
                let other: i64 = r.try_get("other")?;
                let burst = params.burst_weight
                    * (-((now_s - last).max(0) as f64) / params.burst_seconds).exp();
                Ok((forward * decay_now + burst, other as u32))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(10);
        sql_times.push(t.elapsed());
        // The same maths: the graph's ties matching the prefix, by tie score, are the SQL's
        // answer (f32 sums against f64 may swap near-equal neighbours).
        let from_sql: Vec<u32> = scored.iter().map(|(_, o)| *o).collect();
        let from_graph = affinity_top10(g, *asker, prefix, now);
        let _ = k;
        compared += 1;
        if from_sql == from_graph {
            agree += 1;
        }
    }
    sql_times.sort_unstable();
    Ok((sql_times, agree, compared))
}
