//! @mentions in each tool's formats. Every extractor returns ids in order of first appearance,
//! without duplicates, and never panics on arbitrary input.
//!
//! - Jira Cloud wiki markup `[~accountid:5b10ac8d82e05b22cc7d4ef5]`, Jira Server `[~username]`;
//! - Atlassian Document Format `{"type": "mention", "attrs": {"id": ...}}` nodes;
//! - Confluence storage format `<ri:user ri:account-id="..."/>` (or `ri:userkey`, `ri:username`);
//! - Slack `<@U074VRHQ11T>` / `<@U074VRHQ11T|name>` and rich-text `{"type": "user"}` elements;
//! - GitHub `@login` in Markdown, not inside code spans or fenced blocks, not in e-mail addresses.

use serde_json::Value;

/// A Jira mention: Cloud names account ids, Server names usernames.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JiraMention {
    /// `[~accountid:...]`.
    AccountId(String),
    /// `[~username]`.
    Username(String),
}

fn push_unique<T: PartialEq>(out: &mut Vec<T>, item: T) {
    if !out.contains(&item) {
        out.push(item);
    }
}

/// Mentions in Jira wiki markup.
pub fn jira(text: &str) -> Vec<JiraMention> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("[~") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(']') else { break };
        let inner = &rest[..end];
        rest = &rest[end + 1..];
        if inner.is_empty() || inner.len() > 128 || inner.contains(['[', ' ', '\n']) {
            continue;
        }
        match inner.strip_prefix("accountid:") {
            Some(id) if !id.is_empty() => {
                push_unique(&mut out, JiraMention::AccountId(id.to_owned()))
            }
            Some(_) => {}
            None => push_unique(&mut out, JiraMention::Username(inner.to_owned())),
        }
    }
    out
}

/// Mention node ids in an Atlassian Document Format document (Jira Cloud rich text).
pub fn adf(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![doc];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(map) => {
                if map.get("type").and_then(Value::as_str) == Some("mention")
                    && let Some(id) = map
                        .get("attrs")
                        .and_then(|a| a.get("id"))
                        .and_then(Value::as_str)
                {
                    push_unique(&mut out, id.to_owned());
                }
                // Children in reverse so the stack visits them in document order.
                if let Some(Value::Array(content)) = map.get("content") {
                    stack.extend(content.iter().rev());
                }
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    out
}

/// A Confluence user reference in storage format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConfluenceUser {
    /// `ri:account-id` (Cloud).
    AccountId(String),
    /// `ri:userkey` (Server).
    UserKey(String),
    /// `ri:username` (old Server).
    Username(String),
}

/// User references in Confluence storage format (XHTML).
pub fn confluence_storage(xhtml: &str) -> Vec<ConfluenceUser> {
    let mut out = Vec::new();
    let mut rest = xhtml;
    while let Some(start) = rest.find("<ri:user") {
        rest = &rest[start + "<ri:user".len()..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = &rest[end..];
        for (attr, make) in [
            (
                "ri:account-id",
                ConfluenceUser::AccountId as fn(String) -> ConfluenceUser,
            ),
            ("ri:userkey", ConfluenceUser::UserKey),
            ("ri:username", ConfluenceUser::Username),
        ] {
            if let Some(value) = attribute(tag, attr) {
                push_unique(&mut out, make(value));
                break;
            }
        }
    }
    out
}

/// The value of `name="..."` (or single quotes) inside a tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let after = rest[at + name.len()..].trim_start();
        rest = &rest[at + name.len()..];
        let Some(after) = after.strip_prefix('=') else {
            continue;
        };
        let after = after.trim_start();
        let quote = after.chars().next()?;
        if quote != '"' && quote != '\'' {
            continue;
        }
        let value = &after[1..];
        let close = value.find(quote)?;
        let value = &value[..close];
        if !value.is_empty() {
            return Some(value.to_owned());
        }
    }
    None
}

fn is_slack_id(id: &str) -> bool {
    id.len() >= 2
        && id.len() <= 32
        && (id.starts_with('U') || id.starts_with('W'))
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `<@U...>` mentions in Slack message text.
pub fn slack_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('>') else { break };
        let inner = &rest[..end];
        let id = inner.split('|').next().unwrap_or("");
        if is_slack_id(id) {
            push_unique(&mut out, id.to_owned());
        }
        rest = &rest[end..];
    }
    out
}

/// `{"type": "user", "user_id": ...}` elements anywhere in Slack blocks.
pub fn slack_blocks(blocks: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![blocks];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(map) => {
                if map.get("type").and_then(Value::as_str) == Some("user")
                    && let Some(id) = map
                        .get("user_id")
                        .and_then(Value::as_str)
                        .filter(|id| is_slack_id(id))
                {
                    push_unique(&mut out, id.to_owned());
                }
                let mut children: Vec<&Value> = map
                    .values()
                    .filter(|v| v.is_object() || v.is_array())
                    .collect();
                children.reverse();
                stack.extend(children);
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    out
}

/// `@login` mentions in GitHub Markdown: not inside fenced code blocks or code spans, not in
/// e-mail addresses, not team mentions (`@org/team`).
pub fn github(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<&str> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") {
            fence = Some("```");
            continue;
        }
        if trimmed.starts_with("~~~") {
            fence = Some("~~~");
            continue;
        }
        // Indented code block (four spaces or a tab).
        if line.starts_with("    ") || line.starts_with('\t') {
            continue;
        }
        github_line(&strip_code_spans(line), &mut out);
    }
    out
}

/// Removes `code spans` (a run of backticks up to the same run).
fn strip_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let opener = &rest[start..start + ticks];
        let after = &rest[start + ticks..];
        match after.find(opener) {
            Some(close) => {
                out.push(' ');
                rest = &after[close + ticks..];
            }
            None => {
                out.push_str(opener);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn github_line(line: &str, out: &mut Vec<String>) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'@' {
            i += 1;
            continue;
        }
        // Part of a word before the @: an e-mail address or similar.
        let preceded_by_word = i > 0
            && (bytes[i - 1].is_ascii_alphanumeric()
                || matches!(bytes[i - 1], b'_' | b'.' | b'-' | b'+' | b'@' | b'/' | b'`'));
        let start = i + 1;
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'-') {
            end += 1;
        }
        let login = &line[start..end];
        let valid = !login.is_empty()
            && login.len() <= 39
            && !login.starts_with('-')
            && !login.ends_with('-')
            && !login.contains("--");
        let team_or_domain = end < bytes.len() && matches!(bytes[end], b'/' | b'@')
            || (end + 1 < bytes.len()
                && bytes[end] == b'.'
                && bytes[end + 1].is_ascii_alphanumeric());
        if !preceded_by_word && valid && !team_or_domain {
            push_unique(out, login.to_owned());
        }
        i = end.max(i + 1);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn jira_cloud_and_server() {
        let text = "Hi [~accountid:5b10ac8d82e05b22cc7d4ef5] and [~jsmith], again [~jsmith]; not [~ spaced] or [~accountid:]";
        assert_eq!(
            jira(text),
            vec![
                JiraMention::AccountId("5b10ac8d82e05b22cc7d4ef5".into()),
                JiraMention::Username("jsmith".into())
            ]
        );
    }

    #[test]
    fn adf_mention_nodes_in_document_order() {
        let doc = json!({ "type": "doc", "version": 1, "content": [
            { "type": "paragraph", "content": [
                { "type": "text", "text": "Ping " },
                { "type": "mention", "attrs": { "id": "557058:aaa", "text": "@Ann" } },
                { "type": "mention", "attrs": { "id": "5b10:bbb", "text": "@Bo" } } ] },
            { "type": "paragraph", "content": [ { "type": "mention", "attrs": { "id": "557058:aaa" } } ] } ] });
        assert_eq!(adf(&doc), vec!["557058:aaa", "5b10:bbb"]);
    }

    #[test]
    fn confluence_storage_user_links() {
        let xhtml = r#"<p>Thanks <ac:link><ri:user ri:account-id="5b10ac8d" /></ac:link> and <ac:link><ri:user ri:userkey='ff80818' /></ac:link> <ri:user ri:username="jdoe"/></p>"#;
        assert_eq!(
            confluence_storage(xhtml),
            vec![
                ConfluenceUser::AccountId("5b10ac8d".into()),
                ConfluenceUser::UserKey("ff80818".into()),
                ConfluenceUser::Username("jdoe".into())
            ]
        );
    }

    #[test]
    fn slack_text_and_rich_text() {
        assert_eq!(
            slack_text("hey <@U074VRHQ11T> and <@W12345|bob> not <#C123> or <@lower>"),
            vec!["U074VRHQ11T", "W12345"]
        );
        let blocks = json!([{ "type": "rich_text", "elements": [{ "type": "rich_text_section", "elements": [
            { "type": "user", "user_id": "U111" }, { "type": "text", "text": " hi " }, { "type": "user", "user_id": "U222" } ] }] }]);
        assert_eq!(slack_blocks(&blocks), vec!["U111", "U222"]);
    }

    #[test]
    fn github_skips_code_and_email() {
        let md = "Thanks @octocat and @hubot!\nMail me at someone@example.com or @someone.\n`@notinspan` ``@nor `this` one``\n```\n@notinfence\n```\n    @notindented\ncc @org/team, @-bad, @good-name, (@paren)";
        assert_eq!(
            github(md),
            vec!["octocat", "hubot", "someone", "good-name", "paren"]
        );
    }

    proptest::proptest! {
        #[test]
        fn extractors_never_panic(text in ".{0,200}") {
            let _ = jira(&text);
            let _ = confluence_storage(&text);
            let _ = slack_text(&text);
            let _ = github(&text);
        }
    }
}
