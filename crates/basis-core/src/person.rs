//! People: the data subjects. A person has a profile, an account status and identities in each
//! source tool so that webhook actors resolve to one person.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{FieldError, is_identifier};
use crate::jurisdiction;
use crate::subject::AccountStatus;

/// What erased people are replaced with in events.
pub const ERASED: &str = "<erased>";

/// Sources a person may have identities in.
pub const SOURCES: [&str; 6] = ["jira", "confluence", "trello", "github", "slack", "email"];

/// A person's profile as given to `PUT /v1/people/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// Department.
    #[serde(default)]
    pub department: Option<String>,
    /// Team ids.
    #[serde(default)]
    pub teams: Vec<String>,
    /// ISO 3166-1 alpha-2 country; decides the jurisdiction.
    #[serde(default)]
    pub country: Option<String>,
    /// Account status (default `active`).
    #[serde(default)]
    pub account: Option<AccountStatus>,
    /// IANA time zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// BCP 47 locale.
    #[serde(default)]
    pub locale: Option<String>,
    /// Ids in each source tool: `{ "slack": "U074VRHQ11T", "github": "octocat" }`.
    #[serde(default)]
    pub identities: BTreeMap<String, String>,
}

/// A stored person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Id, unique per tenant.
    pub id: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Job title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Team ids.
    pub teams: Vec<String>,
    /// Country code, upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Account status.
    pub account: AccountStatus,
    /// Time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Source identities.
    pub identities: BTreeMap<String, String>,
}

/// Whether `id` may name a person.
pub fn is_person_id(id: &str) -> bool {
    is_identifier(id) && !id.contains(['<', '>'])
}

impl PersonInput {
    /// Checks the profile and turns it into a person with id `id`.
    ///
    /// # Errors
    /// Each bad field, with index 0.
    pub fn into_person(self, id: &str) -> Result<Person, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, reason: String| {
            errors.push(FieldError {
                index: 0,
                field: field.to_owned(),
                reason,
            });
        };
        if !is_person_id(id) {
            fail("id", format!("`{}` is not a person id", truncate(id)));
        }
        let short =
            |v: &Option<String>, field: &str, max: usize, fail: &mut dyn FnMut(&str, String)| {
                if v.as_ref().is_some_and(|s| s.len() > max) {
                    fail(field, format!("longer than {max} bytes"));
                }
            };
        short(&self.name, "name", 512, &mut fail);
        short(&self.job_title, "job_title", 512, &mut fail);
        short(&self.department, "department", 512, &mut fail);
        short(&self.timezone, "timezone", 64, &mut fail);
        short(&self.locale, "locale", 35, &mut fail);
        if let Some(email) = &self.email
            && (email.len() > 320 || !looks_like_email(email))
        {
            fail(
                "email",
                format!("`{}` is not an e-mail address", truncate(email)),
            );
        }
        if let Some(country) = &self.country
            && !jurisdiction::is_country_code(country)
        {
            fail(
                "country",
                format!("`{}` is not an ISO 3166-1 alpha-2 code", truncate(country)),
            );
        }
        if self.teams.len() > 1_000 {
            fail("teams", "more than 1000 teams".into());
        }
        for (i, team) in self.teams.iter().enumerate() {
            if !is_identifier(team) {
                fail(
                    &format!("teams[{i}]"),
                    format!("`{}` is not an identifier", truncate(team)),
                );
            }
        }
        for (source, external) in &self.identities {
            if !SOURCES.contains(&source.as_str()) {
                fail(
                    &format!("identities.{source}"),
                    format!("unknown source; one of {}", SOURCES.join(", ")),
                );
            } else if external.is_empty() || external.len() > 256 {
                fail(
                    &format!("identities.{source}"),
                    "must be 1 to 256 bytes".into(),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Person {
            id: id.to_owned(),
            name: self.name,
            email: self.email,
            job_title: self.job_title,
            department: self.department,
            teams: self.teams,
            country: self.country.map(|c| c.to_ascii_uppercase()),
            account: self.account.unwrap_or_default(),
            timezone: self.timezone,
            locale: self.locale,
            identities: self.identities,
        })
    }
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_fields() {
        let input = PersonInput {
            email: Some("not-mail".into()),
            country: Some("Germany".into()),
            identities: BTreeMap::from([("myspace".into(), "x".into())]),
            ..PersonInput::default()
        };
        let errors = input.into_person("u 1").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["id", "email", "country", "identities.myspace"]);
    }

    #[test]
    fn normalizes_country() {
        let p = PersonInput {
            country: Some("de".into()),
            ..PersonInput::default()
        }
        .into_person("u-1")
        .unwrap();
        assert_eq!(p.country.as_deref(), Some("DE"));
        assert_eq!(p.account, AccountStatus::Active);
    }
}
