//! The policy: a TOML file naming the controller and the purposes for which personal data is
//! used, each with its legal basis per jurisdiction. Parsed into [`PolicyFile`], validated and
//! compiled into [`Policy`], the form the gate reads (inheritance resolved, ancestors listed,
//! bases indexed by jurisdiction).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::jurisdiction::{self, JurisdictionId};

/// The default policy, encoding the seed privacy notice (DESIGN §2).
pub const DEFAULT_POLICY_TOML: &str = include_str!("default_policy.toml");

/// A legal basis for processing (GDPR Art. 6(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Art. 6(1)(a).
    Consent,
    /// Art. 6(1)(b).
    Contract,
    /// Art. 6(1)(c).
    LegalObligation,
    /// Art. 6(1)(d).
    VitalInterests,
    /// Art. 6(1)(e).
    PublicTask,
    /// Art. 6(1)(f).
    LegitimateInterest,
}

impl Basis {
    /// Every basis, in the order the notice lists them.
    pub const ALL: [Basis; 6] = [
        Basis::Contract,
        Basis::LegitimateInterest,
        Basis::Consent,
        Basis::LegalObligation,
        Basis::VitalInterests,
        Basis::PublicTask,
    ];

    /// The snake_case name used in TOML and JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Basis::Consent => "consent",
            Basis::Contract => "contract",
            Basis::LegalObligation => "legal_obligation",
            Basis::VitalInterests => "vital_interests",
            Basis::PublicTask => "public_task",
            Basis::LegitimateInterest => "legitimate_interest",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Option<Basis> {
        Basis::ALL.into_iter().find(|b| b.as_str() == text)
    }

    /// How much the basis protects the person when the jurisdiction is unknown: the gate picks
    /// the most protective basis configured for the purpose.
    const fn protectiveness(self) -> u8 {
        match self {
            Basis::Consent => 5,
            Basis::Contract => 4,
            Basis::LegitimateInterest => 3,
            Basis::PublicTask => 2,
            Basis::VitalInterests => 1,
            Basis::LegalObligation => 0,
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an objection does to processing on legitimate interest (GDPR Art. 21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionRule {
    /// Processing stops (the default).
    #[default]
    Honored,
    /// Processing stops unless an administrator records compelling grounds (security, legal
    /// claims); the override and its grounds are the decision's evidence.
    Overridable,
    /// Nothing overrides it (direct marketing, Art. 21(3)).
    Absolute,
}

impl ObjectionRule {
    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ObjectionRule::Honored => "honored",
            ObjectionRule::Overridable => "overridable",
            ObjectionRule::Absolute => "absolute",
        }
    }
}

/// The policy as written in TOML.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Policy version, quoted in every decision (a date or a release name).
    pub version: String,
    /// Who is responsible for the processing.
    pub controller: Controller,
    /// Jurisdictions beyond `eea` and `default`: name -> ISO country codes.
    #[serde(default)]
    pub jurisdictions: BTreeMap<String, Vec<String>>,
    /// Sections of the notice, in order.
    #[serde(default)]
    pub groups: Vec<GroupFile>,
    /// Free text rendered under "Legal bases for processing", per basis.
    #[serde(default)]
    pub basis_text: BTreeMap<String, String>,
    /// The purposes.
    pub purposes: Vec<PurposeFile>,
}

/// The controller of the processing (GDPR Art. 30(1)(a)).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    /// Legal name.
    pub name: String,
    /// Where people send privacy requests.
    pub contact: String,
    /// Data protection officer, if one is appointed.
    #[serde(default)]
    pub dpo: Option<String>,
    /// Security measures, for the records of processing (Art. 30(1)(g)).
    #[serde(default)]
    pub security_measures: Vec<String>,
}

/// A section of the privacy notice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GroupFile {
    /// Short name purposes refer to.
    pub key: String,
    /// Heading ("To provide the Services and personalize your experience").
    pub title: String,
    /// Text after the purposes' own paragraphs.
    #[serde(default)]
    pub closing: Option<String>,
}

/// A purpose as written in TOML; fields left out are inherited from the nearest declared
/// ancestor.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PurposeFile {
    /// Dotted key (`personalize.content.search`).
    pub key: String,
    /// Human name.
    #[serde(default)]
    pub title: Option<String>,
    /// The notice's text for this purpose.
    #[serde(default)]
    pub notice: Option<String>,
    /// Notice section.
    #[serde(default)]
    pub group: Option<String>,
    /// Data categories used (`user.contact.email`).
    #[serde(default)]
    pub data_categories: Option<Vec<String>>,
    /// Categories of data subjects (Art. 30).
    #[serde(default)]
    pub subject_categories: Option<Vec<String>>,
    /// Legal basis per jurisdiction (`eea`, `default`, or one the policy adds).
    #[serde(default)]
    pub basis: Option<BTreeMap<String, String>>,
    /// Whether a person may switch this use off although the basis does not require it.
    #[serde(default)]
    pub opt_out: Option<bool>,
    /// What an objection does (legitimate interest only).
    #[serde(default)]
    pub objection: Option<ObjectionRule>,
    /// Bumped when the purpose changes materially; older consents then no longer count.
    #[serde(default)]
    pub notice_version: Option<u32>,
    /// How long data kept for this purpose may live.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Recipients or categories of recipients (Art. 30).
    #[serde(default)]
    pub recipients: Option<Vec<String>>,
    /// Transfers to third countries and their safeguards (Art. 30).
    #[serde(default)]
    pub transfers: Option<Vec<String>>,
}

/// A policy that cannot be used, naming what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not valid TOML or does not have the policy's shape.
    #[error("policy is not valid: {0}")]
    Syntax(String),
    /// A field of a purpose is wrong.
    #[error("purpose `{purpose}`: field `{field}`: {reason}")]
    Purpose {
        /// The purpose's key.
        purpose: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Something outside the purposes is wrong.
    #[error("field `{field}`: {reason}")]
    Field {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// Index of a purpose in a compiled policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PurposeId(pub u16);

/// A purpose with inheritance resolved.
#[derive(Debug, Clone)]
pub struct Purpose {
    /// Its index.
    pub id: PurposeId,
    /// Dotted key.
    pub key: String,
    /// Human name.
    pub title: String,
    /// Notice text (may be empty for a child described by its parent).
    pub notice: String,
    /// Notice section key.
    pub group: String,
    /// Data categories.
    pub data_categories: Vec<String>,
    /// Categories of data subjects.
    pub subject_categories: Vec<String>,
    /// Basis per jurisdiction id, indexed by [`JurisdictionId`].
    pub bases: Vec<Basis>,
    /// Opt-out available.
    pub opt_out: bool,
    /// Objection rule.
    pub objection: ObjectionRule,
    /// Current notice version.
    pub notice_version: u32,
    /// Retention.
    pub retention_days: u32,
    /// Recipients.
    pub recipients: Vec<String>,
    /// Transfers.
    pub transfers: Vec<String>,
    /// Nearest declared ancestor.
    pub parent: Option<PurposeId>,
    /// This purpose, then its ancestors nearest first.
    pub lineage: Vec<PurposeId>,
}

impl Purpose {
    /// The oldest time data used for this purpose at `now` may come from: its retention period
    /// before `now`.
    pub fn retained_since(&self, now: crate::Timestamp) -> crate::Timestamp {
        crate::Timestamp(
            now.0
                .saturating_sub(i64::from(self.retention_days) * 86_400_000),
        )
    }

    /// The basis that applies in `jurisdiction`.
    #[inline]
    pub fn basis_in(&self, jurisdiction: JurisdictionId) -> Basis {
        self.bases
            .get(usize::from(jurisdiction.0))
            .or_else(|| self.bases.first())
            .copied()
            .unwrap_or(Basis::Consent)
    }

    /// Whether a person can object (some jurisdiction uses legitimate interest).
    pub fn objectable(&self) -> bool {
        self.bases.contains(&Basis::LegitimateInterest)
    }

    /// Whether a person can give or withdraw consent (some jurisdiction uses consent).
    pub fn consentable(&self) -> bool {
        self.bases.contains(&Basis::Consent)
    }
}

/// A named jurisdiction in a compiled policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jurisdiction {
    /// Its index.
    pub id: JurisdictionId,
    /// Name (`eea`, `default`, `unknown`, or one the policy adds).
    pub name: String,
    /// Countries (empty for `default`, `unknown`).
    pub countries: Vec<String>,
}

/// A validated, compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Policy version.
    pub version: String,
    /// Controller.
    pub controller: Controller,
    /// Notice sections.
    pub groups: Vec<GroupFile>,
    /// Legal-basis texts.
    pub basis_text: BTreeMap<String, String>,
    /// Jurisdictions, indexed by [`JurisdictionId`].
    pub jurisdictions: Vec<Jurisdiction>,
    purposes: Vec<Purpose>,
    by_key: HashMap<String, PurposeId>,
    source: PolicyFile,
}

impl Policy {
    /// The default policy.
    ///
    /// # Errors
    /// Only if the shipped default is broken, which a unit test rules out.
    pub fn default_policy() -> Result<Policy, PolicyError> {
        Policy::from_toml(DEFAULT_POLICY_TOML)
    }

    /// Parses, validates and compiles a TOML policy.
    ///
    /// # Errors
    /// [`PolicyError`] naming the purpose and field at fault.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        Policy::compile(file)
    }

    /// The policy as written, for `GET /v1/policy`.
    pub fn source(&self) -> &PolicyFile {
        &self.source
    }

    /// All purposes, in declaration order.
    pub fn purposes(&self) -> &[Purpose] {
        &self.purposes
    }

    /// A purpose by id.
    #[inline]
    pub fn purpose(&self, id: PurposeId) -> Option<&Purpose> {
        self.purposes.get(usize::from(id.0))
    }

    /// A purpose id by key.
    pub fn purpose_id(&self, key: &str) -> Option<PurposeId> {
        self.by_key.get(key).copied()
    }

    /// A purpose by key.
    pub fn purpose_by_key(&self, key: &str) -> Option<&Purpose> {
        self.purpose_id(key).and_then(|id| self.purpose(id))
    }

    /// The jurisdiction for a country code; `None` means the country is not known.
    pub fn jurisdiction_of(&self, country: Option<&str>) -> JurisdictionId {
        let Some(country) = country.filter(|c| !c.is_empty()) else {
            return JurisdictionId::UNKNOWN;
        };
        // Policy-added jurisdictions first: an operator may carve out, say, `uk`.
        for j in self
            .jurisdictions
            .iter()
            .skip(usize::from(JurisdictionId::FIRST_EXTRA))
        {
            if j.countries.iter().any(|c| c.eq_ignore_ascii_case(country)) {
                return j.id;
            }
        }
        if jurisdiction::is_eea(country) {
            JurisdictionId::EEA
        } else {
            JurisdictionId::DEFAULT
        }
    }

    /// The name of a jurisdiction.
    pub fn jurisdiction_name(&self, id: JurisdictionId) -> &str {
        self.jurisdictions
            .get(usize::from(id.0))
            .map_or("default", |j| j.name.as_str())
    }

    /// The bases configured anywhere, in notice order.
    pub fn bases_in_use(&self) -> Vec<Basis> {
        Basis::ALL
            .into_iter()
            .filter(|b| self.purposes.iter().any(|p| p.bases.contains(b)))
            .collect()
    }

    /// The purposes whose EEA basis is `basis`.
    pub fn purposes_with_eea_basis(&self, basis: Basis) -> impl Iterator<Item = &Purpose> {
        self.purposes
            .iter()
            .filter(move |p| p.basis_in(JurisdictionId::EEA) == basis)
    }

    fn compile(file: PolicyFile) -> Result<Policy, PolicyError> {
        let field = |field: &str, reason: &str| PolicyError::Field {
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        if file.version.trim().is_empty() {
            return Err(field("version", "must not be empty"));
        }
        if file.controller.name.trim().is_empty() {
            return Err(field("controller.name", "must not be empty"));
        }
        if file.controller.contact.trim().is_empty() {
            return Err(field("controller.contact", "must not be empty"));
        }
        if file.purposes.is_empty() {
            return Err(field("purposes", "a policy needs at least one purpose"));
        }
        if file.purposes.len() > usize::from(u16::MAX) {
            return Err(field("purposes", "too many purposes"));
        }
        for (name, _) in file.basis_text.iter() {
            if Basis::parse(name).is_none() {
                return Err(field(
                    &format!("basis_text.{name}"),
                    "is not a legal basis (contract, legitimate_interest, consent, legal_obligation, vital_interests, public_task)",
                ));
            }
        }
        let mut groups_seen = Vec::new();
        for g in &file.groups {
            if groups_seen.contains(&g.key.as_str()) {
                return Err(field(&format!("groups.{}", g.key), "is declared twice"));
            }
            groups_seen.push(g.key.as_str());
        }

        let mut jurisdictions = vec![
            Jurisdiction {
                id: JurisdictionId::DEFAULT,
                name: "default".into(),
                countries: vec![],
            },
            Jurisdiction {
                id: JurisdictionId::EEA,
                name: "eea".into(),
                countries: jurisdiction::EEA_COUNTRIES
                    .iter()
                    .map(|c| (*c).to_owned())
                    .collect(),
            },
            Jurisdiction {
                id: JurisdictionId::UNKNOWN,
                name: "unknown".into(),
                countries: vec![],
            },
        ];
        for (name, countries) in &file.jurisdictions {
            if ["default", "eea", "unknown"].contains(&name.as_str()) {
                return Err(field(
                    &format!("jurisdictions.{name}"),
                    "is built in and cannot be redefined",
                ));
            }
            if !is_segment(name) {
                return Err(field(
                    &format!("jurisdictions.{name}"),
                    "names are lowercase letters, digits and `_`",
                ));
            }
            for c in countries {
                if !jurisdiction::is_country_code(c) {
                    return Err(field(
                        &format!("jurisdictions.{name}"),
                        &format!("`{c}` is not an ISO 3166-1 alpha-2 country code"),
                    ));
                }
            }
            let index = u8::try_from(jurisdictions.len())
                .map_err(|_| field("jurisdictions", "too many jurisdictions"))?;
            jurisdictions.push(Jurisdiction {
                id: JurisdictionId(index),
                name: name.clone(),
                countries: countries.iter().map(|c| c.to_ascii_uppercase()).collect(),
            });
        }

        let mut by_key: HashMap<String, PurposeId> = HashMap::new();
        let mut purposes: Vec<Purpose> = Vec::with_capacity(file.purposes.len());
        for (index, raw) in file.purposes.iter().enumerate() {
            let id = PurposeId(u16::try_from(index).map_err(|_| field("purposes", "too many"))?);
            let err = |field: &'static str, reason: String| PolicyError::Purpose {
                purpose: raw.key.clone(),
                field,
                reason,
            };
            if !is_purpose_key(&raw.key) {
                return Err(err(
                    "key",
                    "must be dot-separated segments of lowercase letters, digits and `_`".into(),
                ));
            }
            if by_key.contains_key(&raw.key) {
                return Err(err("key", "is declared twice".into()));
            }
            // The nearest declared ancestor; parents must come before their children.
            let parent = ancestors_of(&raw.key).find_map(|a| by_key.get(a).copied());
            if parent.is_none()
                && let Some(later) = file.purposes[index + 1..]
                    .iter()
                    .find(|p| raw.key.starts_with(&format!("{}.", p.key)))
            {
                return Err(err(
                    "key",
                    format!("its ancestor `{}` must be declared before it", later.key),
                ));
            }
            let parent_purpose = parent.and_then(|p| purposes.get(usize::from(p.0)));

            let title = match (&raw.title, parent_purpose) {
                (Some(t), _) if !t.trim().is_empty() => t.clone(),
                (Some(_), _) => return Err(err("title", "must not be empty".into())),
                (None, _) => return Err(err("title", "is required".into())),
            };
            let group = match (&raw.group, parent_purpose) {
                (Some(g), _) => g.clone(),
                (None, Some(p)) => p.group.clone(),
                (None, None) => {
                    return Err(err("group", "is required on a top-level purpose".into()));
                }
            };
            if !file.groups.is_empty() && !file.groups.iter().any(|g| g.key == group) {
                return Err(err(
                    "group",
                    format!("`{group}` is not one of the policy's groups"),
                ));
            }
            let bases = match (&raw.basis, parent_purpose) {
                (Some(map), _) => {
                    compile_bases(map, &jurisdictions).map_err(|r| err("basis", r))?
                }
                (None, Some(p)) => p.bases.clone(),
                (None, None) => {
                    return Err(err("basis", "is required on a top-level purpose".into()));
                }
            };
            let opt_out = raw
                .opt_out
                .or(parent_purpose.map(|p| p.opt_out))
                .unwrap_or(false);
            let objection = raw
                .objection
                .or(parent_purpose.map(|p| p.objection))
                .unwrap_or_default();
            if raw.objection.is_some_and(|o| o != ObjectionRule::Honored)
                && !bases.contains(&Basis::LegitimateInterest)
            {
                return Err(err(
                    "objection",
                    "only applies to purposes on legitimate_interest".into(),
                ));
            }
            let notice_version = raw
                .notice_version
                .or(parent_purpose.map(|p| p.notice_version))
                .unwrap_or(1);
            if notice_version == 0 {
                return Err(err("notice_version", "starts at 1".into()));
            }
            let retention_days = match (raw.retention_days, parent_purpose) {
                (Some(0), _) => return Err(err("retention_days", "must be at least 1".into())),
                (Some(d), _) => d,
                (None, Some(p)) => p.retention_days,
                (None, None) => {
                    return Err(err(
                        "retention_days",
                        "is required on a top-level purpose".into(),
                    ));
                }
            };
            let inherit = |own: &Option<Vec<String>>, from: fn(&Purpose) -> &Vec<String>| {
                own.clone()
                    .or_else(|| parent_purpose.map(|p| from(p).clone()))
                    .unwrap_or_default()
            };
            let data_categories = inherit(&raw.data_categories, |p| &p.data_categories);
            for c in &data_categories {
                if !is_purpose_key(c) {
                    return Err(err(
                        "data_categories",
                        format!("`{c}` is not a dotted category such as `user.contact.email`"),
                    ));
                }
            }
            let mut lineage = vec![id];
            if let Some(p) = parent_purpose {
                lineage.extend_from_slice(&p.lineage);
            }
            purposes.push(Purpose {
                id,
                key: raw.key.clone(),
                title,
                notice: raw.notice.clone().unwrap_or_default(),
                group,
                data_categories,
                subject_categories: inherit(&raw.subject_categories, |p| &p.subject_categories),
                bases,
                opt_out,
                objection,
                notice_version,
                retention_days,
                recipients: inherit(&raw.recipients, |p| &p.recipients),
                transfers: inherit(&raw.transfers, |p| &p.transfers),
                parent,
                lineage,
            });
            by_key.insert(raw.key.clone(), id);
        }

        Ok(Policy {
            version: file.version.clone(),
            controller: file.controller.clone(),
            groups: file.groups.clone(),
            basis_text: file.basis_text.clone(),
            jurisdictions,
            purposes,
            by_key,
            source: file,
        })
    }
}

/// Bases indexed by jurisdiction: `default` must be given (or every named one), the unknown
/// jurisdiction takes the most protective one configured.
fn compile_bases(
    map: &BTreeMap<String, String>,
    jurisdictions: &[Jurisdiction],
) -> Result<Vec<Basis>, String> {
    let mut parsed = BTreeMap::new();
    for (name, value) in map {
        let Some(j) = jurisdictions.iter().find(|j| &j.name == name) else {
            return Err(format!(
                "`{name}` is not a jurisdiction (eea, default, or one declared under [jurisdictions])"
            ));
        };
        if j.id == JurisdictionId::UNKNOWN {
            return Err(
                "`unknown` is derived: the most protective basis configured applies".into(),
            );
        }
        let Some(basis) = Basis::parse(value) else {
            return Err(format!(
                "`{value}` is not a legal basis (contract, legitimate_interest, consent, legal_obligation, vital_interests, public_task)"
            ));
        };
        parsed.insert(j.id, basis);
    }
    let Some(default) = parsed.get(&JurisdictionId::DEFAULT).copied() else {
        return Err("needs a `default` entry".into());
    };
    let mut bases: Vec<Basis> = jurisdictions
        .iter()
        .map(|j| parsed.get(&j.id).copied().unwrap_or(default))
        .collect();
    let strictest = parsed
        .values()
        .copied()
        .max_by_key(|b| b.protectiveness())
        .unwrap_or(default);
    if let Some(slot) = bases.get_mut(usize::from(JurisdictionId::UNKNOWN.0)) {
        *slot = strictest;
    }
    Ok(bases)
}

fn is_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_purpose_key(key: &str) -> bool {
    key.len() <= 200 && key.split('.').all(is_segment)
}

/// Proper ancestors of a dotted key, nearest first: `a.b.c` -> `a.b`, `a`.
fn ancestors_of(key: &str) -> impl Iterator<Item = &str> {
    let mut end = Some(key.len());
    std::iter::from_fn(move || {
        let current = end?;
        let found = key[..current].rfind('.');
        end = found;
        found.map(|i| &key[..i])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(purposes: &str) -> String {
        format!(
            "version = \"t\"\n[controller]\nname = \"Acme\"\ncontact = \"privacy@acme.test\"\n{purposes}"
        )
    }

    #[test]
    fn default_policy_encodes_every_seed_row() {
        let policy = Policy::default_policy().unwrap();
        let expect = [
            ("essential.service", Basis::Contract),
            ("essential.service.authentication", Basis::Contract),
            ("essential.service.payment_processing", Basis::Contract),
            ("personalize.content", Basis::Contract),
            ("personalize.content.profiling", Basis::LegitimateInterest),
            ("personalize.system.affiliation", Basis::LegitimateInterest),
            ("personalize.system.cross_product", Basis::Contract),
            ("functional.service.improve", Basis::LegitimateInterest),
            (
                "functional.service.improve.mentions",
                Basis::LegitimateInterest,
            ),
            (
                "functional.service.improve.search_terms",
                Basis::LegitimateInterest,
            ),
            (
                "functional.service.improve.experiments",
                Basis::LegitimateInterest,
            ),
            (
                "essential.service.notifications.transactional",
                Basis::Contract,
            ),
            ("essential.service.notifications.activity", Basis::Contract),
            (
                "essential.service.notifications.onboarding",
                Basis::Contract,
            ),
            ("marketing.communications.email", Basis::LegitimateInterest),
            ("marketing.advertising.third_party.targeted", Basis::Consent),
            ("marketing.measurement", Basis::LegitimateInterest),
            ("essential.service.operations.support", Basis::Contract),
            ("third_party_sharing.support_expert", Basis::Consent),
            ("essential.service.security", Basis::LegitimateInterest),
            ("essential.legal_claims", Basis::LegitimateInterest),
            ("essential.legal_obligation", Basis::LegalObligation),
            ("marketing.testimonials", Basis::Consent),
        ];
        for (key, basis) in expect {
            let p = policy
                .purpose_by_key(key)
                .unwrap_or_else(|| panic!("{key} missing"));
            assert_eq!(p.basis_in(JurisdictionId::EEA), basis, "{key}");
        }
        let security = policy.purpose_by_key("essential.service.security").unwrap();
        assert_eq!(security.objection, ObjectionRule::Overridable);
        let email = policy
            .purpose_by_key("marketing.communications.email")
            .unwrap();
        assert_eq!(email.objection, ObjectionRule::Absolute);
        assert!(
            policy
                .purpose_by_key("personalize.content")
                .unwrap()
                .opt_out
        );
    }

    #[test]
    fn children_inherit_and_list_their_ancestors() {
        let policy = Policy::default_policy().unwrap();
        let mentions = policy
            .purpose_by_key("functional.service.improve.mentions")
            .unwrap();
        let improve = policy.purpose_id("functional.service.improve").unwrap();
        assert_eq!(mentions.parent, Some(improve));
        assert_eq!(mentions.lineage, vec![mentions.id, improve]);
        let activity = policy
            .purpose_by_key("essential.service.notifications.activity")
            .unwrap();
        // `essential.service.notifications` is not declared: the nearest declared ancestor.
        assert_eq!(activity.parent, policy.purpose_id("essential.service"));
    }

    #[test]
    fn jurisdiction_from_country() {
        let policy = Policy::from_toml(&minimal(
            "[jurisdictions]\nuk = [\"GB\"]\n[[purposes]]\nkey = \"a\"\ntitle = \"A\"\ngroup = \"g\"\nretention_days = 1\nbasis = { default = \"contract\", uk = \"consent\" }\n",
        ))
        .unwrap();
        assert_eq!(policy.jurisdiction_of(Some("de")), JurisdictionId::EEA);
        assert_eq!(policy.jurisdiction_of(Some("US")), JurisdictionId::DEFAULT);
        assert_eq!(policy.jurisdiction_of(None), JurisdictionId::UNKNOWN);
        let uk = policy.jurisdiction_of(Some("GB"));
        assert_eq!(policy.jurisdiction_name(uk), "uk");
        let a = policy.purpose_by_key("a").unwrap();
        assert_eq!(a.basis_in(uk), Basis::Consent);
        // Country unknown: the most protective basis configured.
        assert_eq!(a.basis_in(JurisdictionId::UNKNOWN), Basis::Consent);
    }

    #[test]
    fn validation_names_purpose_and_field() {
        let cases = [
            (
                "key = \"Bad Key\"\ntitle = \"x\"\ngroup = \"g\"\nretention_days = 1\nbasis = { default = \"contract\" }",
                "Bad Key",
                "key",
            ),
            (
                "key = \"a\"\ntitle = \"x\"\ngroup = \"g\"\nretention_days = 1\nbasis = { default = \"maybe\" }",
                "a",
                "basis",
            ),
            (
                "key = \"a\"\ntitle = \"x\"\ngroup = \"g\"\nretention_days = 1\nbasis = { eea = \"consent\" }",
                "a",
                "basis",
            ),
            (
                "key = \"a\"\ntitle = \"x\"\ngroup = \"g\"\nretention_days = 1\nbasis = { default = \"contract\", mars = \"consent\" }",
                "a",
                "basis",
            ),
            (
                "key = \"a\"\ntitle = \"x\"\ngroup = \"g\"\nbasis = { default = \"contract\" }",
                "a",
                "retention_days",
            ),
            (
                "key = \"a\"\ntitle = \"x\"\ngroup = \"g\"\nretention_days = 1\nbasis = { default = \"contract\" }\nobjection = \"absolute\"",
                "a",
                "objection",
            ),
            (
                "key = \"a\"\ngroup = \"g\"\nretention_days = 1\nbasis = { default = \"contract\" }",
                "a",
                "title",
            ),
            (
                "key = \"a\"\ntitle = \"x\"\ngroup = \"g\"\nretention_days = 1\nbasis = { default = \"contract\" }\nnotice_version = 0",
                "a",
                "notice_version",
            ),
        ];
        for (purpose_toml, purpose, field) in cases {
            let err = Policy::from_toml(&minimal(&format!("[[purposes]]\n{purpose_toml}\n")))
                .unwrap_err();
            match err {
                PolicyError::Purpose {
                    purpose: p,
                    field: f,
                    ..
                } => {
                    assert_eq!((p.as_str(), f), (purpose, field), "{purpose_toml}");
                }
                other => panic!("{purpose_toml}: {other}"),
            }
        }
    }

    #[test]
    fn a_child_before_its_parent_is_refused() {
        let err = Policy::from_toml(&minimal(
            "[[purposes]]\nkey = \"a.b\"\ntitle = \"x\"\ngroup = \"g\"\nretention_days = 1\nbasis = { default = \"contract\" }\n[[purposes]]\nkey = \"a\"\ntitle = \"y\"\ngroup = \"g\"\nretention_days = 1\nbasis = { default = \"contract\" }\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("must be declared before"), "{err}");
    }

    #[test]
    fn syntax_errors_are_reported() {
        let err = Policy::from_toml("version = ").unwrap_err();
        assert!(matches!(err, PolicyError::Syntax(_)));
        let err =
            Policy::from_toml(&minimal("[[purposes]]\nkey = \"a\"\nsurprise = 1\n")).unwrap_err();
        assert!(err.to_string().contains("surprise"), "{err}");
    }

    #[test]
    fn ancestors_nearest_first() {
        assert_eq!(ancestors_of("a.b.c").collect::<Vec<_>>(), vec!["a.b", "a"]);
        assert_eq!(ancestors_of("a").count(), 0);
    }
}
