//! API keys: random, shown once, stored only as a SHA-256 hash.

use sha2::{Digest, Sha256};

/// Prefix that makes keys recognizable in secret scanners.
pub const KEY_PREFIX: &str = "basis_";

/// A new random key.
///
/// # Errors
/// When the operating system has no randomness to give.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{KEY_PREFIX}{}", hex::encode(bytes)))
}

/// The stored form of a key.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The stored form of an e-mail address in the suppression list (case-insensitive).
pub fn email_hash(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_hashes_stable() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX) && a.len() == KEY_PREFIX.len() + 48);
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(
            email_hash(" Alice@Example.COM"),
            email_hash("alice@example.com")
        );
    }
}
