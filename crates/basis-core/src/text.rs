//! Text folding for matching: lower case, accents removed, split into words — so "Zoë" is found
//! by "zoe" and "ZO".

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `s` in lower case without accents (canonical decomposition, combining marks dropped).
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The folded words of `s`: runs of letters and digits.
pub fn words(s: &str) -> impl Iterator<Item = String> {
    let folded = fold(s);
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
}

/// Words too common to say anything about a topic.
const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
    "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "we", "were", "will",
    "with", "you", "your", "our", "not", "but", "if", "so", "can", "all", "do", "der", "die",
    "das", "und", "le", "la", "les", "et", "de",
];

/// The words of `s` worth indexing for topics: no stop words, 2 to 40 characters.
pub fn terms(s: &str) -> impl Iterator<Item = String> + '_ {
    words(s).filter(|w| (2..=40).contains(&w.chars().count()) && !STOP.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold("Zoë ÅNGSTRÖM"), "zoe angstrom");
        assert_eq!(fold("Plain ASCII"), "plain ascii");
        assert_eq!(fold("José"), "jose");
        assert_eq!(
            words("Jean-Luc O'Brien").collect::<Vec<_>>(),
            vec!["jean", "luc", "o", "brien"]
        );
    }

    #[test]
    fn terms_drop_stop_words_and_single_letters() {
        assert_eq!(
            terms("The Q3 plan for a Kafka migration").collect::<Vec<_>>(),
            vec!["q3", "plan", "kafka", "migration"]
        );
    }
}
