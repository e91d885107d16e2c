//! `basis demo`: a realistic synthetic workspace — people with titles, departments, teams and
//! countries inside and outside the EEA; spaces, projects, boards, repositories and channels;
//! pages, tickets, cards, pull requests and messages with comments, mentions, assignments,
//! memberships, views and searches over the last 90 days; and varied privacy choices. The same
//! seed always gives the same workspace.

use std::collections::BTreeMap;
use std::sync::Arc;

use basis_core::Timestamp;
use basis_core::clock::{Clock, SystemClock};
use basis_core::person::PersonInput;
use basis_engine::ingest::parse_batch;
use basis_engine::{Actor, Engine};
use basis_server::{ServerConfig, open_engine};
use serde_json::{Value, json};

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const FIRST: &[&str] = &[
    "Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Gustav", "Hana", "Ines", "Jonas",
    "Kwame", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Uma",
    "Viktor", "Wen", "Ximena", "Yusuf", "Zoë", "Amélie", "Björn", "Chen", "Daniela",
];
const LAST: &[&str] = &[
    "Andersen",
    "Barros",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "García",
    "Horvat",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Müller",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Novak",
    "Silva",
    "Moreau",
    "Keller",
];
const COUNTRIES: &[&str] = &[
    "DE", "DE", "FR", "NL", "SE", "ES", "IT", "PL", "IE", "NO", "US", "US", "US", "GB", "CA", "IN",
    "BR", "JP", "CH", "AU",
];
const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "Engineering",
        &[
            "Software Engineer",
            "Senior Software Engineer",
            "Staff Engineer",
            "Engineering Manager",
            "Site Reliability Engineer",
        ],
    ),
    (
        "Product",
        &[
            "Product Manager",
            "Senior Product Manager",
            "Head of Product",
        ],
    ),
    (
        "Design",
        &["Product Designer", "UX Researcher", "Design Lead"],
    ),
    (
        "Sales",
        &["Account Executive", "Sales Engineer", "Sales Director"],
    ),
    (
        "Marketing",
        &["Content Marketer", "Growth Manager", "Marketing Director"],
    ),
    (
        "Support",
        &[
            "Support Engineer",
            "Support Lead",
            "Technical Account Manager",
        ],
    ),
    ("Legal", &["Counsel", "Privacy Officer"]),
    ("Finance", &["Financial Analyst", "Controller"]),
];
const TOPICS: &[&str] = &[
    "onboarding",
    "billing",
    "search relevance",
    "latency",
    "Q3 roadmap",
    "incident review",
    "SSO",
    "mobile app",
    "pricing",
    "data retention",
    "GDPR",
    "release notes",
    "API rate limits",
    "dark mode",
    "notifications",
    "permissions",
    "migration",
    "webhooks",
    "analytics",
    "customer churn",
];
const QUERIES: &[&str] = &[
    "roadmap",
    "incident postmortem",
    "sso setup",
    "pricing page",
    "release checklist",
    "gdpr export",
    "oncall rota",
    "api limits",
    "design system",
    "sales deck",
    "churn analysis",
    "retention policy",
    "webhook retries",
    "mobile crash",
    "billing bug",
];
const TOOLS: &[(&str, &str, &str)] = &[
    ("confluence", "page", "space"),
    ("jira", "ticket", "project"),
    ("trello", "card", "board"),
    ("github", "pull_request", "repo"),
    ("slack", "message", "channel"),
];

pub async fn run(
    config: &ServerConfig,
    tenant: &str,
    people: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let (engine, store) = open_engine(config, Arc::new(SystemClock)).await?;
    if engine.store().count_api_keys().await? == 0 {
        let key = engine
            .create_key(tenant, basis_store::Role::Admin, "demo")
            .await?;
        eprintln!("admin key for workspace `{tenant}` (shown once): {key}");
    }
    let mut rng = Rng(seed);
    let actor = Actor {
        tenant,
        name: "demo",
    };
    let now = SystemClock.now();

    // Privacy choices are actions in time: make them once, not again on a re-run.
    let seeded_before = engine.store().person(tenant, "u-0000").await?.is_some();
    let mut ids = Vec::with_capacity(people);
    let mut teams_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..people {
        let id = format!("u-{i:04}");
        let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
        let (department, titles) = *rng.pick(DEPARTMENTS);
        let team = format!("team-{}", department.to_lowercase());
        let mut teams = vec![team.clone()];
        if rng.chance(20) {
            teams.push(format!(
                "team-{}",
                rng.pick(&["platform", "growth", "security", "ai"])
            ));
        }
        for t in &teams {
            teams_of.entry(t.clone()).or_default().push(id.clone());
        }
        let domain = if rng.chance(85) {
            "acme.example"
        } else {
            *rng.pick(&["partner.example", "gmail.com", "contractor.example"])
        };
        let login = format!("{}{}", ascii(first).to_lowercase(), i);
        let input = PersonInput {
            name: Some(format!("{first} {last}")),
            email: Some(format!(
                "{}.{}{i}@{domain}",
                ascii(first).to_lowercase(),
                ascii(last).to_lowercase()
            )),
            job_title: Some((*rng.pick(titles)).to_owned()),
            department: Some(department.to_owned()),
            teams,
            country: Some((*rng.pick(COUNTRIES)).to_owned()),
            account: Some(if rng.chance(3) {
                basis_core::subject::AccountStatus::Suspended
            } else {
                basis_core::subject::AccountStatus::Active
            }),
            timezone: Some("Europe/Berlin".into()),
            locale: Some("en".into()),
            identities: BTreeMap::from([
                ("slack".to_owned(), format!("U{:08X}", rng.next() as u32)),
                ("github".to_owned(), login.clone()),
                ("jira".to_owned(), format!("{:024x}", rng.next())),
            ]),
        };
        engine.put_person(tenant, &id, input).await?;
        ids.push(id);
    }
    if ids.is_empty() {
        anyhow::bail!("`--people` must be at least 1");
    }

    // Content in every tool, then activity on it.
    let mut events: Vec<Value> = Vec::new();
    let team_names: Vec<String> = teams_of.keys().cloned().collect();
    let mut objects: Vec<(String, String, String, Value)> = Vec::new();
    for n in 0..(people * 2).max(10) {
        let (source, kind, container_kind) = *rng.pick(TOOLS);
        let team = rng.pick(&team_names).clone();
        let container = format!("{container_kind}-{}", team.trim_start_matches("team-"));
        let visibility = if rng.chance(60) {
            json!({ "public": true })
        } else {
            json!({ "members": [team] })
        };
        let author = rng.pick(&ids).clone();
        let topic = rng.pick(TOPICS);
        let id = format!("{kind}-{n}");
        let at = now
            .plus_days(-(rng.below(90) as i64))
            .plus_millis(-(rng.below(86_400_000) as i64));
        events.push(json!({ "id": format!("demo-{id}-created"), "type": "content.created", "at": at, "source": source, "actor": author,
            "object": { "id": id, "kind": kind, "title": format!("{} — {topic}", title_for(kind)), "body": format!("Notes on {topic} for {container}."),
                        "url": format!("https://{source}.example/{id}"), "container": container, "visibility": visibility } }));
        objects.push((id, container, source.to_owned(), visibility));
    }
    for n in 0..people * 40 {
        let actor_id = rng.pick(&ids).clone();
        let (object, container, source, visibility) = rng.pick(&objects).clone();
        let at = now
            .plus_days(-(rng.below(90) as i64))
            .plus_millis(-(rng.below(86_400_000) as i64));
        let base = json!({ "object": { "id": object, "container": container, "visibility": visibility }, "source": source, "actor": actor_id, "at": at });
        let mut e = base.clone();
        match rng.below(10) {
            0..=2 => {
                e["type"] = json!("comment.created");
                let mentioned: Vec<String> =
                    (0..rng.below(3)).map(|_| rng.pick(&ids).clone()).collect();
                e["mentions"] = json!(mentioned);
            }
            3 => {
                e["type"] = json!("task.assigned");
                e["assignee"] = json!(rng.pick(&ids));
            }
            4 => {
                e["type"] = json!("member.added");
                e["member"] = json!(rng.pick(&ids));
            }
            5 => e["type"] = json!("content.updated"),
            6 | 7 => e["type"] = json!("content.viewed"),
            8 => {
                e = json!({ "type": "search.performed", "actor": actor_id, "at": at, "query": rng.pick(QUERIES) });
            }
            _ => {
                e = json!({ "type": "login.succeeded", "actor": actor_id, "at": at,
                    "context": { "ip": format!("203.0.113.{}", rng.below(250) + 1), "user_agent": "Mozilla/5.0", "country": rng.pick(COUNTRIES) } });
            }
        }
        e["id"] = json!(format!("demo-{n}"));
        events.push(e);
    }
    events.sort_by_key(|e| {
        e["at"]
            .as_str()
            .and_then(|t| Timestamp::parse(t).ok())
            .unwrap_or_default()
    });
    let mut stored = 0;
    for chunk in events.chunks(1_000) {
        let text = serde_json::to_string(chunk)?;
        let batch = parse_batch(&text, false)
            .map_err(|e| anyhow::anyhow!("demo generated an invalid event: {e:?}"))?;
        stored += engine.ingest(tenant, batch).await?.accepted;
    }

    // Privacy choices, as people make them.
    let mut choices = 0;
    for id in ids.iter().filter(|_| !seeded_before) {
        if rng.chance(10) {
            engine.opt_out(&actor, id, "personalize.content").await?;
            choices += 1;
        }
        if rng.chance(6) {
            engine
                .object(
                    &actor,
                    id,
                    "functional.service.improve.mentions",
                    Some("I prefer not to be suggested".into()),
                )
                .await?;
            choices += 1;
        }
        if rng.chance(4) {
            engine
                .object(&actor, id, "marketing.communications.email", None)
                .await?;
            choices += 1;
        }
        if rng.chance(15) {
            engine
                .grant_consent(
                    &actor,
                    id,
                    "marketing.testimonials",
                    None,
                    Some("customer story form".into()),
                )
                .await?;
            choices += 1;
        }
        if rng.chance(25) {
            engine
                .grant_consent(
                    &actor,
                    id,
                    "marketing.advertising.third_party.targeted",
                    None,
                    Some("cookie banner".into()),
                )
                .await?;
            choices += 1;
            if rng.chance(30) {
                engine
                    .withdraw_consent(&actor, id, "marketing.advertising.third_party.targeted")
                    .await?;
                choices += 1;
            }
        }
    }
    if let Some(first) = ids.first().filter(|_| !seeded_before) {
        engine
            .object(
                &actor,
                first,
                "essential.service.security",
                Some("please stop monitoring me".into()),
            )
            .await?;
        engine
            .override_objection(
                &actor,
                first,
                "essential.service.security",
                "open fraud investigation: repeated failed logins from unknown addresses",
            )
            .await?;
        engine
            .create_legal_hold(&actor, first, "litigation hold, case 2026-17")
            .await?;
    }
    run_projections(&engine).await?;
    engine.flush_ledger().await?;
    store.close().await;
    eprintln!(
        "demo workspace `{tenant}`: {} people, {} objects, {stored} new events, {choices} privacy choices",
        ids.len(),
        objects.len()
    );
    Ok(())
}

async fn run_projections(engine: &Engine) -> anyhow::Result<()> {
    let worker = engine.projection_worker();
    while let basis_engine::projections::Outcome::Applied { .. } = worker.try_execute_next().await?
    {
    }
    Ok(())
}

fn title_for(kind: &str) -> &'static str {
    match kind {
        "page" => "Design doc",
        "ticket" => "Bug",
        "card" => "Task",
        "pull_request" => "PR",
        _ => "Thread",
    }
}

/// Folds accents for e-mail addresses and logins.
fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ï' => 'i',
            'ó' | 'ö' | 'ô' => 'o',
            'ú' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}
