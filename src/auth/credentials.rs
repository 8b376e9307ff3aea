//! Secrets: password hashing with argon2id, and the random tokens (API
//! tokens, setup token, CSRF token) with their stored digests.

use std::{
    cell::RefCell,
    sync::{Arc, LazyLock, Mutex, mpsc},
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use tokio::sync::{Semaphore, oneshot};

use crate::web::secret::random_secret;
use crate::{error::Result, web::cpu::take_turn};

/// argon2id with the OWASP parameters: 19 MiB of memory, 2 passes, 1 lane.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid")
}

/// The most memory a stored hash may ask its check for (64 MiB): more than
/// ours, in case they grow, but never whatever a stored string says.
const MAX_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// The memory argon2 works in, kept by each hashing thread from one hash
    /// to the next. Allocated afresh every time, freed blocks of 19 MiB were
    /// kept by the allocator and split by small allocations, until every
    /// hashing thread held about 100 MiB.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2 with `params` in this thread's kept memory.
fn argon2_into(params: Params, version: Version, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    let argon2 = Argon2::new(Algorithm::Argon2id, version, params);
    BLOCKS.with_borrow_mut(|memory| {
        memory.resize(blocks, Block::new());
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks]).is_ok()
    })
}

/// A new argon2id PHC string for `password`, with a fresh random salt.
fn hash_into_phc(password: &[u8]) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|err| err.to_string())?;
    let mut out = [0u8; 32];
    if !argon2_into(params(), Version::V0x13, password, &salt, &mut out) {
        return Err("argon2 refused its input".into());
    }
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).map_err(|err| err.to_string())?,
        salt: Some(Salt::new(&salt).map_err(|err| err.to_string())?),
        hash: Some(Output::new(&out).map_err(|err| err.to_string())?),
    };
    Ok(hash.to_string())
}

/// Whether `password` is the one `stored` (an argon2id PHC string) was made from.
fn matches_phc(password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
    let mut out = vec![0u8; expected.len()];
    argon2_into(params, version, password, salt.as_ref(), &mut out)
        && bool::from(out.ct_eq(expected.as_bytes()))
}

/// A hash of a password nobody has, verified when the email is unknown so
/// that an unknown email takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_into_phc(b"no account has this password").expect("hashing a constant works"));

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
        self.run(move || hash_into_phc(password.expose_secret().as_bytes()))
            .await?
            .map_err(|err| anyhow::anyhow!("hashing a password failed: {err}").into())
    }

    /// Whether `candidate` matches `stored`; with no stored hash it still
    /// does the same work and answers false.
    pub async fn verify(&self, candidate: &SecretString, stored: Option<String>) -> Result<bool> {
        let candidate = candidate.clone();
        self.run(move || {
            let known = stored.is_some();
            let stored = stored.as_deref().unwrap_or(DUMMY_HASH.as_str());
            matches_phc(candidate.expose_secret().as_bytes(), stored) && known
        })
        .await
    }

    /// Runs `work` on a hashing thread once a turn is free, or answers busy.
    async fn run<R: Send + 'static>(&self, work: impl FnOnce() -> R + Send + 'static) -> Result<R> {
        let turn = take_turn(&self.turns, self.wait, "password hashing", 2).await?;
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
    // This thread hashes nothing else: it need not keep argon2's memory.
    BLOCKS.with_borrow_mut(|memory| *memory = Vec::new());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let hashing = Hashing::for_tools();
        let password = SecretString::from("correct horse battery staple");
        let hash = hashing.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hashing.verify(&password, Some(hash.clone())).await.unwrap());
        assert!(!hashing.verify(&SecretString::from("wrong"), Some(hash)).await.unwrap());
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_itself_verify_and_ours_verify_there() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"correct horse battery staple")
            .unwrap()
            .to_string();
        assert!(matches_phc(b"correct horse battery staple", &theirs));
        assert!(!matches_phc(b"correct horse battery stapler", &theirs));
        let ours = hash_into_phc(b"correct horse battery staple").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery staple", &parsed).is_ok());
        assert!(!matches_phc(
            b"x",
            "$argon2id$v=19$m=9999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
        ));
        assert!(!matches_phc(b"x", "not a hash"));
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
    }
}
