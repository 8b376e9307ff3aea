//! Secrets: password hashing with argon2id, and the random tokens (API
//! tokens, setup token, CSRF token) with their stored digests.

use std::{
    sync::{Arc, LazyLock, Mutex, mpsc},
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use tokio::sync::{Semaphore, oneshot};

use crate::error::{AppError, Result};

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

/// Where passwords are hashed and checked: on a few threads of its own,
/// never on the async workers, and never more at once than it has threads.
/// Each hash takes 19 MiB while it runs, so a burst of sign-ins costs at
/// most `threads` times that, however large the burst: past that a request
/// waits its turn, briefly, and is then told to come back.
///
/// The threads end when the last clone of the `Hashing` is dropped.
#[derive(Clone)]
pub struct Hashing {
    turns: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    wait: Duration,
}

type Job = Box<dyn FnOnce() + Send>;

impl Hashing {
    /// `threads` hashes at once; a request waits up to `wait` for its turn.
    pub fn new(threads: usize, wait: Duration) -> Hashing {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new().name(format!("debrief-hash-{n}")).spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // every sender is gone
                    }
                }
            });
            if let Err(err) = spawned {
                tracing::error!(error = %err, "cannot start a password hashing thread");
            }
        }
        Hashing { turns: Arc::new(Semaphore::new(threads)), jobs, wait }
    }

    /// One thread, for the command line.
    pub fn for_tools() -> Hashing {
        Hashing::new(1, Duration::from_secs(60))
    }

    /// Hashes a password to an argon2id PHC string.
    pub async fn hash(&self, password: &SecretString) -> Result<String> {
        let password = password.clone();
        self.run(move || {
            hasher().hash_password(password.expose_secret().as_bytes()).map(|hash| hash.to_string())
        })
        .await?
        .map_err(|err| anyhow::anyhow!("hashing a password failed: {err}").into())
    }

    /// Whether `candidate` matches `stored`; with no stored hash it still
    /// does the same work and answers false.
    pub async fn verify(&self, candidate: &SecretString, stored: Option<String>) -> Result<bool> {
        let candidate = candidate.clone();
        self.run(move || {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
            let Ok(parsed) = PasswordHash::new(&stored) else { return false };
            let ok = hasher().verify_password(candidate.expose_secret().as_bytes(), &parsed).is_ok();
            ok && known
        })
        .await
    }

    /// Runs `work` on a hashing thread once a turn is free, or answers busy.
    async fn run<R: Send + 'static>(&self, work: impl FnOnce() -> R + Send + 'static) -> Result<R> {
        let turn = tokio::time::timeout(self.wait, Arc::clone(&self.turns).acquire_owned())
            .await
            .map_err(|_| {
                tracing::warn!("password hashing is at capacity; a request was turned away");
                AppError::Busy { retry_after_secs: 2 }
            })?
            .map_err(|_| anyhow::anyhow!("the hashing threads are closed"))?;
        let (done, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let value = span.in_scope(work);
            // The turn is given back when the work is done, not when the
            // request gives up waiting: the thread was busy until now.
            drop(turn);
            let _ = done.send(value);
        });
        self.jobs.send(job).map_err(|_| anyhow::anyhow!("the hashing threads are gone"))?;
        Ok(result.await.map_err(|_| anyhow::anyhow!("a hashing thread ended without an answer"))?)
    }
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
        let hashing = Hashing::for_tools();
        let password = SecretString::from("correct horse battery staple");
        let hash = hashing.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hashing.verify(&password, Some(hash.clone())).await.unwrap());
        assert!(!hashing.verify(&SecretString::from("wrong"), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_users_never_verify_even_with_the_dummy_password() {
        let dummy = SecretString::from("no account has this password");
        assert!(!Hashing::for_tools().verify(&dummy, None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_past_the_threads_waits_then_is_turned_away() {
        let hashing = Hashing::new(1, Duration::from_millis(30));
        let password = SecretString::from("correct horse battery staple");
        let attempts = (0..8).map(|_| {
            let hashing = hashing.clone();
            let password = password.clone();
            tokio::spawn(async move { hashing.verify(&password, None).await })
        });
        let results = futures_util::future::join_all(attempts).await;
        let busy = results.iter().filter(|r| matches!(r, Ok(Err(AppError::Busy { .. })))).count();
        let answered = results.iter().filter(|r| matches!(r, Ok(Ok(false)))).count();
        assert!(answered >= 1, "the first gets its turn");
        assert!(busy >= 1, "the rest do not all wait");
        assert_eq!(answered + busy, 8);
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
