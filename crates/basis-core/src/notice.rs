//! The privacy notice rendered from the policy the gate enforces, laid out like the seed: "How we
//! use information we collect" with one paragraph per purpose group, then "Legal bases for
//! processing (for EEA users)" listing the bases actually configured. Because it is rendered from
//! the same policy, the published notice cannot drift from what the engine does.

use crate::jurisdiction::JurisdictionId;
use crate::policy::{Basis, ObjectionRule, Policy, Purpose};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CommonMark.
    Markdown,
    /// A standalone HTML page.
    Html,
}

impl Format {
    /// Parses `md`/`markdown` or `html`.
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "md" | "markdown" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            _ => None,
        }
    }
}

enum Span {
    Text(String),
    Strong(String),
    Code(String),
}

enum Block {
    Heading(u8, String),
    Paragraph(Vec<Span>),
    List(Vec<Vec<Span>>),
}

fn text(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

/// Renders the notice.
pub fn render(policy: &Policy, format: Format) -> String {
    let blocks = blocks(policy);
    match format {
        Format::Markdown => markdown(&blocks),
        Format::Html => html(&blocks, &policy.controller.name),
    }
}

fn what_you_can_do(p: &Purpose) -> Vec<&'static str> {
    let mut can = Vec::new();
    if p.opt_out {
        can.push("opt out");
    }
    if p.objectable() {
        can.push(match p.objection {
            ObjectionRule::Honored => "object",
            ObjectionRule::Overridable => {
                "object (we may continue only on compelling grounds, which we record)"
            }
            ObjectionRule::Absolute => "object at any time, and we stop",
        });
    }
    if p.consentable() {
        can.push("give or withdraw consent");
    }
    can
}

fn bases_phrase(policy: &Policy, p: &Purpose) -> String {
    let eea = p.basis_in(JurisdictionId::EEA);
    let elsewhere = p.basis_in(JurisdictionId::DEFAULT);
    let mut phrase = format!("{} in the EEA", human_basis(eea));
    if elsewhere != eea {
        phrase.push_str(&format!(", {} elsewhere", human_basis(elsewhere)));
    }
    for j in policy
        .jurisdictions
        .iter()
        .skip(usize::from(JurisdictionId::FIRST_EXTRA))
    {
        let b = p.basis_in(j.id);
        if b != elsewhere {
            phrase.push_str(&format!(", {} in `{}`", human_basis(b), j.name));
        }
    }
    phrase
}

fn human_basis(b: Basis) -> &'static str {
    match b {
        Basis::Contract => "necessary to provide the Services (contract)",
        Basis::LegitimateInterest => "legitimate interest",
        Basis::Consent => "your consent",
        Basis::LegalObligation => "legal obligation",
        Basis::VitalInterests => "vital interests",
        Basis::PublicTask => "public task",
    }
}

fn blocks(policy: &Policy) -> Vec<Block> {
    let c = &policy.controller;
    let mut out = vec![Block::Heading(1, format!("Privacy notice — {}", c.name))];
    let mut contact = vec![
        text(format!(
            "Policy version {}. Privacy contact: ",
            policy.version
        )),
        Span::Code(c.contact.clone()),
    ];
    if let Some(dpo) = &c.dpo {
        contact.push(text(". Data protection officer: "));
        contact.push(Span::Code(dpo.clone()));
    }
    contact.push(text("."));
    out.push(Block::Paragraph(contact));

    out.push(Block::Heading(
        2,
        "How we use information we collect".into(),
    ));
    out.push(Block::Paragraph(vec![text(
        "How we use the information we collect depends in part on which Services you use, how you use them, and any preferences you have communicated to us. Below are the specific purposes for which we use the information we collect about you.",
    )]));

    let mut group_keys: Vec<&str> = policy.groups.iter().map(|g| g.key.as_str()).collect();
    for p in policy.purposes() {
        if !group_keys.contains(&p.group.as_str()) {
            group_keys.push(&p.group);
        }
    }
    for key in group_keys {
        let members: Vec<&Purpose> = policy
            .purposes()
            .iter()
            .filter(|p| p.group == key)
            .collect();
        if members.is_empty() {
            continue;
        }
        let group = policy.groups.iter().find(|g| g.key == key);
        let title = group.map_or(key, |g| g.title.as_str());
        let mut paragraph: Vec<String> = members
            .iter()
            .filter(|p| !p.notice.is_empty())
            .map(|p| p.notice.clone())
            .collect();
        if let Some(closing) = group.and_then(|g| g.closing.clone()) {
            paragraph.push(closing);
        }
        out.push(Block::Paragraph(vec![
            Span::Strong(format!("{title}:")),
            text(format!(" {}", paragraph.join(" "))),
        ]));
        out.push(Block::List(
            members
                .iter()
                .map(|p| {
                    let mut item = vec![
                        Span::Strong(p.title.clone()),
                        text(" ("),
                        Span::Code(p.key.clone()),
                        text(format!("): {}", bases_phrase(policy, p))),
                    ];
                    let can = what_you_can_do(p);
                    if !can.is_empty() {
                        item.push(text(format!("; you can {}", can.join(", "))));
                    }
                    item.push(text(format!("; kept at most {} days.", p.retention_days)));
                    item
                })
                .collect(),
        ));
    }

    out.push(Block::Heading(
        2,
        "Legal bases for processing (for EEA users)".into(),
    ));
    out.push(Block::Paragraph(vec![text(
        "If you are an individual in the European Economic Area (EEA), we collect and process information about you only where we have legal bases for doing so under applicable EU laws. The legal bases depend on the Services you use and how you use them. This means we collect and use your information only where:",
    )]));
    let mut items = Vec::new();
    for basis in policy.bases_in_use() {
        let purposes: Vec<&Purpose> = policy.purposes_with_eea_basis(basis).collect();
        if purposes.is_empty() {
            continue;
        }
        let lead = policy
            .basis_text
            .get(basis.as_str())
            .cloned()
            .unwrap_or_else(|| format!("The processing rests on {}.", human_basis(basis)));
        let mut item = vec![
            Span::Strong(format!("{}:", title_case(basis))),
            text(format!(" {lead} This applies to: ")),
        ];
        for (i, p) in purposes.iter().enumerate() {
            if i > 0 {
                item.push(text(", "));
            }
            item.push(Span::Code(p.key.clone()));
        }
        item.push(text("."));
        items.push(item);
    }
    out.push(Block::List(items));
    out.push(Block::Paragraph(vec![text(
        "If you have consented to our use of information about you for a specific purpose, you have the right to change your mind at any time, but this will not affect any processing that has already taken place. Where we are using your information because we or a third party (e.g. your employer) have a legitimate interest to do so, you have the right to object to that use though, in some cases, this may mean no longer using the Services.",
    )]));
    out
}

fn title_case(b: Basis) -> String {
    let name = b.as_str().replace('_', " ");
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn markdown(blocks: &[Block]) -> String {
    fn spans(s: &[Span]) -> String {
        s.iter()
            .map(|s| match s {
                Span::Text(t) => t.clone(),
                Span::Strong(t) => format!("**{t}**"),
                Span::Code(t) => format!("`{t}`"),
            })
            .collect()
    }
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(level, t) => {
                out.push_str(&"#".repeat(usize::from(*level)));
                out.push(' ');
                out.push_str(t);
            }
            Block::Paragraph(s) => out.push_str(&spans(s)),
            Block::List(items) => {
                let lines: Vec<String> = items.iter().map(|i| format!("- {}", spans(i))).collect();
                out.push_str(&lines.join("\n"));
            }
        }
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(blocks: &[Block], controller: &str) -> String {
    fn spans(s: &[Span]) -> String {
        s.iter()
            .map(|s| match s {
                Span::Text(t) => escape(t),
                Span::Strong(t) => format!("<strong>{}</strong>", escape(t)),
                Span::Code(t) => format!("<code>{}</code>", escape(t)),
            })
            .collect()
    }
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Privacy notice — {}</title>\n</head>\n<body>\n",
        escape(controller)
    );
    for b in blocks {
        match b {
            Block::Heading(level, t) => {
                out.push_str(&format!("<h{level}>{}</h{level}>\n", escape(t)))
            }
            Block::Paragraph(s) => out.push_str(&format!("<p>{}</p>\n", spans(s))),
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    out.push_str(&format!("<li>{}</li>\n", spans(i)));
                }
                out.push_str("</ul>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_lists_every_purpose_and_the_legal_bases() {
        let policy = Policy::default_policy().unwrap();
        for format in [Format::Markdown, Format::Html] {
            let notice = render(&policy, format);
            assert!(notice.contains("How we use information we collect"));
            assert!(notice.contains("Legal bases for processing (for EEA users)"));
            for p in policy.purposes() {
                assert!(notice.contains(&p.key), "{} missing from {format:?}", p.key);
            }
            for group in &policy.groups {
                assert!(notice.contains(&group.title), "{}", group.title);
            }
            for basis in [
                "Contract:",
                "Legitimate interest:",
                "Consent:",
                "Legal obligation:",
            ] {
                assert!(notice.contains(basis), "{basis}");
            }
            assert!(
                !notice.contains("Vital interests:"),
                "only configured bases are listed"
            );
        }
    }

    #[test]
    fn html_escapes_policy_text() {
        let text = crate::policy::DEFAULT_POLICY_TOML.replace("Your Organization", "A <b>&</b> Co");
        let policy = Policy::from_toml(&text).unwrap();
        let page = render(&policy, Format::Html);
        assert!(page.contains("A &lt;b&gt;&amp;&lt;/b&gt; Co"));
        assert!(!page.contains("<b>&</b>"));
    }
}
