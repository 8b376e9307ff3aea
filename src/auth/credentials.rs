//! Secrets: password hashing with argon2id, and the random tokens (API
//! tokens, setup token, CSRF token) with their stored digests.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{error::Result, telemetry::spawn_blocking_with_tracing};

/// argon2id with the OWASP parameters: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified when the email is unknown so
/// that an unknown email takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hasher().hash_password(b"no account has this password").expect("hashing a constant works").to_string()
});

/// Hashes a password to an argon2id PHC string, off the async workers.
pub async fn hash_password(password: &SecretString) -> Result<String> {
    let password = password.clone();
    let hash = spawn_blocking_with_tracing(move || {
        hasher().hash_password(password.expose_secret().as_bytes()).map(|hash| hash.to_string())
    })
    .await
    .context("password hashing task failed")?
    .map_err(|err| anyhow::anyhow!("hashing a password failed: {err}"))?;
    Ok(hash)
}

/// Whether `candidate` matches `stored`; with no stored hash it still does
/// the same work and answers false.
pub async fn verify_password(candidate: &SecretString, stored: Option<String>) -> Result<bool> {
    let candidate = candidate.clone();
    let matches = spawn_blocking_with_tracing(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        let ok = hasher().verify_password(candidate.expose_secret().as_bytes(), &parsed).is_ok();
        ok && known
    })
    .await
    .context("password verification task failed")?;
    Ok(matches)
}

/// Warms the dummy hash so the first unknown-email login is not faster.
pub fn prepare() {
    LazyLock::force(&DUMMY_HASH);
}

/// A random secret of `bytes` bytes, URL-safe base64 encoded.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source works");
    URL_SAFE_NO_PAD.encode(buf)
}

/// Prefix of API tokens, so a leaked one is recognisable in a scan.
pub const API_TOKEN_PREFIX: &str = "dbr_";

/// A fresh API token: the secret shown once, never stored.
pub fn new_api_token() -> SecretString {
    SecretString::from(format!("{API_TOKEN_PREFIX}{}", random_secret(32)))
}

/// What we store of a high-entropy token: its SHA-256 digest. (Passwords
/// need a slow hash; 256 random bits do not.)
pub fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two secrets in constant time.
pub fn secrets_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let password = SecretString::from("correct horse battery staple");
        let hash = hash_password(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(&password, Some(hash.clone())).await.unwrap());
        assert!(!verify_password(&SecretString::from("wrong"), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_users_never_verify_even_with_the_dummy_password() {
        let dummy = SecretString::from("no account has this password");
        assert!(!verify_password(&dummy, None).await.unwrap());
    }

    #[test]
    fn tokens_are_random_prefixed_and_digested() {
        let a = new_api_token();
        let b = new_api_token();
        assert!(a.expose_secret().starts_with(API_TOKEN_PREFIX));
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(token_digest(a.expose_secret()).len(), 32);
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("abc", "ab"));
    }
}
