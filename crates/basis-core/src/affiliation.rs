//! Affiliation: the organization a person's e-mail domain says they belong to ("use your email
//! domain to infer your affiliation with a particular organization"). Free-mail and disposable
//! domains say nothing and are excluded; subdomains fold into the registrable domain
//! (`mail.eng.acme.co.uk` → `acme.co.uk`).

/// Free-mail and disposable-address domains (a maintained list; extend as providers appear).
const FREE_OR_DISPOSABLE: &[&str] = &[
    // free mail
    "aol.com",
    "gmail.com",
    "googlemail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "hey.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.de",
    "hotmail.fr",
    "icloud.com",
    "inbox.com",
    "live.com",
    "mac.com",
    "mail.com",
    "mail.ru",
    "me.com",
    "msn.com",
    "naver.com",
    "outlook.com",
    "proton.me",
    "protonmail.com",
    "qq.com",
    "rediffmail.com",
    "t-online.de",
    "tutanota.com",
    "web.de",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.co.jp",
    "yahoo.fr",
    "yandex.com",
    "yandex.ru",
    "zoho.com",
    "163.com",
    "126.com",
    "fastmail.com",
    "fastmail.fm",
    "laposte.net",
    "orange.fr",
    "free.fr",
    "libero.it",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "bigpond.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "btinternet.com",
    // disposable
    "10minutemail.com",
    "dispostable.com",
    "guerrillamail.com",
    "guerrillamail.net",
    "mailinator.com",
    "maildrop.cc",
    "mintemail.com",
    "sharklasers.com",
    "spamgourmet.com",
    "temp-mail.org",
    "tempmail.com",
    "throwawaymail.com",
    "trashmail.com",
    "yopmail.com",
    "getnada.com",
    "moakt.com",
    "emailondeck.com",
    "fakeinbox.com",
    "mohmal.com",
];

/// Second-level labels under which country-code domains register names (`acme.co.uk`).
const SECOND_LEVEL: &[&str] = &[
    "co", "com", "ac", "org", "net", "gov", "edu", "ne", "or", "gv",
];

/// The registrable domain of `domain`: the last two labels, or three under a country code's
/// second-level label. `None` for something that is not a domain.
pub fn registrable(domain: &str) -> Option<String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let valid = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !valid {
        return None;
    }
    let n = labels.len();
    let take = if n >= 3 && labels[n - 1].len() == 2 && SECOND_LEVEL.contains(&labels[n - 2]) {
        3
    } else {
        2
    };
    Some(labels[n - take..].join("."))
}

/// The organization an e-mail address points to, or `None` for free-mail, disposable or
/// malformed addresses.
pub fn organization(email: &str) -> Option<String> {
    let (_, domain) = email.rsplit_once('@')?;
    let org = registrable(domain)?;
    (!FREE_OR_DISPOSABLE.contains(&org.as_str())).then_some(org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_subdomains_into_the_registrable_domain() {
        assert_eq!(organization("ann@enron.com").as_deref(), Some("enron.com"));
        assert_eq!(
            organization("Ann@Mail.ECT.Enron.com.").as_deref(),
            Some("enron.com")
        );
        assert_eq!(
            organization("bo@eng.acme.co.uk").as_deref(),
            Some("acme.co.uk")
        );
        assert_eq!(organization("bo@acme.de").as_deref(), Some("acme.de"));
    }

    #[test]
    fn free_mail_disposable_and_junk_say_nothing() {
        assert_eq!(organization("x@gmail.com"), None);
        assert_eq!(organization("x@mx.yahoo.co.uk"), None);
        assert_eq!(organization("x@mailinator.com"), None);
        assert_eq!(organization("no-at-sign"), None);
        assert_eq!(organization("x@localhost"), None);
        assert_eq!(organization("x@bad_domain.com"), None);
    }
}
