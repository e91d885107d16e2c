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

/// Bytes of a word packed into its head.
const HEAD: usize = 8;

/// The first eight bytes of `w`, big-endian, zero-padded (folded words hold no NUL).
fn head(w: &str) -> u64 {
    let mut bytes = [0u8; HEAD];
    for (slot, b) in bytes.iter_mut().zip(w.bytes()) {
        *slot = b;
    }
    u64::from_be_bytes(bytes)
}

/// A folded word with its head packed into an integer: prefix tests and ordering on the head
/// need no pointer chase, and only words longer than the head look at the rest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Word {
    head: u64,
    word: Box<str>,
}

impl Word {
    /// Packs a folded word.
    pub fn new(word: &str) -> Word {
        Word {
            head: head(word),
            word: word.into(),
        }
    }

    /// The first eight bytes, big-endian.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// The word.
    pub fn as_str(&self) -> &str {
        &self.word
    }

    /// Whether the word starts with `p`.
    pub fn starts_with(&self, p: &Prefix) -> bool {
        self.head & p.mask == p.head && (p.text.len() <= HEAD || self.word.starts_with(&*p.text))
    }
}

/// A folded word being typed, packed to test [`Word`]s against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    head: u64,
    mask: u64,
    text: Box<str>,
}

impl Prefix {
    /// The folded words of `s` as prefixes.
    pub fn words(s: &str) -> Vec<Prefix> {
        words(s)
            .map(|w| {
                let n = w.len().min(HEAD);
                Prefix {
                    head: head(&w),
                    mask: if n == 0 {
                        0
                    } else {
                        u64::MAX << (8 * (HEAD - n))
                    },
                    text: w.into(),
                }
            })
            .collect()
    }

    /// The heads of all words that may start with this prefix lie in `lo..=hi`; for a prefix of
    /// at most eight bytes, exactly those words.
    pub fn head_range(&self) -> (u64, u64) {
        (self.head, self.head | !self.mask)
    }

    /// Whether the head range alone decides (no longer than the head).
    pub fn settled_by_head(&self) -> bool {
        self.text.len() <= HEAD
    }

    /// The folded prefix.
    pub fn as_str(&self) -> &str {
        &self.text
    }
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
    fn packed_words_test_prefixes_like_strings() {
        let words = [
            "a",
            "ab",
            "abc",
            "abcdefgh",
            "abcdefghij",
            "abd",
            "b",
            "åkesson",
        ];
        let prefixes = [
            "",
            "a",
            "ab",
            "abcdefgh",
            "abcdefghi",
            "abcdefghx",
            "ake",
            "abcdefghijk",
        ];
        for w in words {
            let folded = fold(w);
            let word = Word::new(&folded);
            for p in prefixes {
                let Some(prefix) = Prefix::words(p).into_iter().next() else {
                    continue;
                };
                assert_eq!(
                    word.starts_with(&prefix),
                    folded.starts_with(prefix.as_str()),
                    "{w} / {p}"
                );
                let (lo, hi) = prefix.head_range();
                let in_range = (lo..=hi).contains(&word.head());
                if prefix.settled_by_head() {
                    assert_eq!(in_range, folded.starts_with(prefix.as_str()), "{w} / {p}");
                } else if folded.starts_with(prefix.as_str()) {
                    assert!(in_range, "{w} / {p}");
                }
            }
        }
    }

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
