//! Jurisdictions from a person's country: the EEA (EU 27 plus Iceland, Liechtenstein and Norway)
//! is built in, a policy may add more (`uk = ["GB"]`), everything else is `default`.

/// The EU 27 plus Iceland, Liechtenstein and Norway, as ISO 3166-1 alpha-2 codes.
pub const EEA_COUNTRIES: [&str; 30] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// Index of a jurisdiction in a compiled policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JurisdictionId(pub u8);

impl JurisdictionId {
    /// Everywhere not named otherwise.
    pub const DEFAULT: JurisdictionId = JurisdictionId(0);
    /// The European Economic Area.
    pub const EEA: JurisdictionId = JurisdictionId(1);
    /// A person whose country is not known: the most protective basis configured applies.
    pub const UNKNOWN: JurisdictionId = JurisdictionId(2);
    /// The first index given to a jurisdiction a policy adds.
    pub const FIRST_EXTRA: u8 = 3;
}

/// Whether `country` (ISO alpha-2, any case) is in the EEA.
pub fn is_eea(country: &str) -> bool {
    EEA_COUNTRIES
        .iter()
        .any(|c| c.eq_ignore_ascii_case(country))
}

/// Whether `country` looks like an ISO 3166-1 alpha-2 code.
pub fn is_country_code(country: &str) -> bool {
    country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eea_includes_efta_members_but_not_switzerland_or_uk() {
        for c in ["DE", "fr", "IS", "LI", "NO"] {
            assert!(is_eea(c), "{c}");
        }
        for c in ["CH", "GB", "US"] {
            assert!(!is_eea(c), "{c}");
        }
    }
}
