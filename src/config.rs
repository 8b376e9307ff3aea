//! Configuration, read once from the environment at start and validated there,
//! so a bad value stops the app with a message naming the variable.

use std::{collections::HashMap, fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use secrecy::{ExposeSecret, SecretString};

use crate::web::client_addr::TrustedProxies;

/// The local PostgreSQL the app uses when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/debrief";

/// Everything the app can be told from outside.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: SecretString,
    pub data_dir: PathBuf,
    /// The public origin, e.g. `https://debrief.example.com`; `None` means
    /// "the address we are bound to", which is what tests and local runs want.
    pub base_url: Option<String>,
    pub secure_cookies: bool,
    pub max_upload_bytes: u64,
    /// Limit for every body that is not an artifact upload (forms, JSON).
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub db: DbConfig,
    /// Password hashes at once (19 MiB each), and how long a sign-in waits
    /// for its turn before a 503.
    pub hash_threads: usize,
    pub hash_wait: Duration,
    /// CPU-heavy steps of a request (rendering a page, diffing revisions)
    /// run at once, off the async workers; more wait their turn.
    pub cpu_threads: usize,
    pub log_format: LogFormat,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Where artifacts are kept.
    pub storage: StorageConfig,
    /// An artifact larger than this is kept but not analysed.
    pub max_analysis_bytes: u64,
    /// Whether this process runs an analysis worker (off for a process that
    /// only serves pages while others analyse).
    pub analysis_worker: bool,
    /// Artifacts up to this size are analysed before the upload answers;
    /// larger ones are queued.
    pub analyse_inline_bytes: u64,
    /// The longest one analysis may run before it is given up as failed.
    pub analysis_timeout: Duration,
    /// How long a worker's claim on a job lasts unless it renews it: the
    /// time before a job left by a process that died is taken by another.
    pub analysis_lease: Duration,
    /// How long an upload may take, end to end.
    pub upload_timeout: Duration,
    /// Days a playbook goes unreviewed before it is flagged as due for review.
    pub playbook_review_days: u32,
    /// The longest one webhook delivery may take, connecting included.
    pub webhook_timeout: Duration,
    /// The wait before a failed delivery's first retry; doubled at each
    /// further retry, up to an hour.
    pub webhook_backoff: Duration,
    /// Tries of one delivery before it is given up as failed (1 to 20).
    pub webhook_attempts: i32,
    /// Days audit events are kept before the hourly prune deletes them;
    /// `0` keeps them forever.
    pub audit_retention_days: u32,
    /// The bearer token `/metrics` asks for; without one, `/metrics` is
    /// not served at all.
    pub metrics_token: Option<SecretString>,
}

/// How the pool talks to PostgreSQL.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub max_connections: u32,
    /// How long a request may wait for a connection before it gets a 503.
    pub acquire_timeout: Duration,
    /// Server-side `statement_timeout` for every connection of the pool.
    pub statement_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A variable that was set to something we cannot use.
/// The artifact store: a local directory (the default) or an S3-compatible
/// bucket.
#[derive(Debug, Clone)]
pub enum StorageConfig {
    Local { dir: PathBuf },
    S3(S3Config),
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    /// The service's address, for a store other than AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    /// Every request to the store gives up after this.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?} is not valid: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Reads the given variables; the environment is only one source of them.
    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self, ConfigError> {
        let env = Env(vars);
        let bind: SocketAddr =
            env.parse("DEBRIEF_BIND", "127.0.0.1:3000", "an address like 127.0.0.1:3000")?;
        let database_url = env.get("DATABASE_URL").unwrap_or(DEFAULT_DATABASE_URL).to_owned();
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError {
                name: "DATABASE_URL",
                value: redact_url(&database_url),
                reason: "expected a postgres:// URL".into(),
            });
        }
        let base_url = match env.get("DEBRIEF_BASE_URL") {
            None => None,
            Some(raw) => Some(parse_base_url(raw).map_err(|reason| ConfigError {
                name: "DEBRIEF_BASE_URL",
                value: raw.to_owned(),
                reason,
            })?),
        };
        let https = base_url.as_deref().is_some_and(|url| url.starts_with("https://"));
        let secure_cookies = env.flag("DEBRIEF_SECURE_COOKIES", https)?;
        let session_idle_minutes: u64 = env.parse_positive("DEBRIEF_SESSION_IDLE_MINUTES", 30)?;
        let session_max_hours: u64 = env.parse_positive("DEBRIEF_SESSION_MAX_HOURS", 12)?;
        let log_format = match env.get("DEBRIEF_LOG_FORMAT").unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError {
                    name: "DEBRIEF_LOG_FORMAT",
                    value: other.to_owned(),
                    reason: "expected text or json".into(),
                });
            }
        };
        let raw_proxies = env.get("DEBRIEF_TRUSTED_PROXIES").unwrap_or("");
        let trusted_proxies = raw_proxies.parse().map_err(|reason| ConfigError {
            name: "DEBRIEF_TRUSTED_PROXIES",
            value: raw_proxies.to_owned(),
            reason,
        })?;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let data_dir = PathBuf::from(env.get("DEBRIEF_DATA_DIR").unwrap_or("./data"));
        let storage = storage_config(&env, &data_dir)?;
        let webhook_attempts: i32 = env.parse_positive("DEBRIEF_WEBHOOK_ATTEMPTS", 8)?;
        if webhook_attempts > 20 {
            return Err(ConfigError {
                name: "DEBRIEF_WEBHOOK_ATTEMPTS",
                value: webhook_attempts.to_string(),
                reason: "expected a whole number from 1 to 20".into(),
            });
        }
        Ok(Config {
            bind,
            database_url: SecretString::from(database_url),
            data_dir,
            storage,
            max_analysis_bytes: env.parse_positive("DEBRIEF_MAX_ANALYSIS_BYTES", 256 * 1024 * 1024)?,
            analysis_worker: env.flag("DEBRIEF_ANALYSIS_WORKER", true)?,
            analyse_inline_bytes: env.parse_positive("DEBRIEF_ANALYSE_INLINE_BYTES", 4 * 1024 * 1024)?,
            analysis_timeout: Duration::from_secs(env.parse_positive("DEBRIEF_ANALYSIS_TIMEOUT_SECS", 120)?),
            analysis_lease: Duration::from_secs(env.parse_positive("DEBRIEF_ANALYSIS_LEASE_SECS", 30)?),
            upload_timeout: Duration::from_secs(env.parse_positive("DEBRIEF_UPLOAD_TIMEOUT_SECS", 600)?),
            playbook_review_days: env.parse_positive("DEBRIEF_PLAYBOOK_REVIEW_DAYS", 180)?,
            webhook_timeout: Duration::from_millis(env.parse_positive("DEBRIEF_WEBHOOK_TIMEOUT_MS", 10_000)?),
            webhook_backoff: Duration::from_millis(env.parse_positive("DEBRIEF_WEBHOOK_BACKOFF_MS", 30_000)?),
            webhook_attempts,
            audit_retention_days: env.parse(
                "DEBRIEF_AUDIT_RETENTION_DAYS",
                "365",
                "a whole number of days (0 keeps audit events forever)",
            )?,
            metrics_token: match env.get("DEBRIEF_METRICS_TOKEN").map(str::trim) {
                None | Some("") => None,
                Some(token) if token.len() < 16 => {
                    return Err(ConfigError {
                        name: "DEBRIEF_METRICS_TOKEN",
                        value: "(hidden)".into(),
                        reason: "expected at least 16 characters".into(),
                    });
                }
                Some(token) => Some(SecretString::from(token.to_owned())),
            },
            base_url,
            secure_cookies,
            max_upload_bytes: env.parse_positive("DEBRIEF_MAX_UPLOAD_BYTES", 256 * 1024 * 1024)?,
            max_body_bytes: env.parse_positive("DEBRIEF_MAX_BODY_BYTES", 1024 * 1024)?,
            request_timeout: Duration::from_secs(env.parse_positive("DEBRIEF_REQUEST_TIMEOUT_SECS", 30)?),
            shutdown_grace: Duration::from_secs(env.parse_positive("DEBRIEF_SHUTDOWN_GRACE_SECS", 20)?),
            session_idle: Duration::from_secs(session_idle_minutes * 60),
            session_absolute: Duration::from_secs(session_max_hours * 3600),
            db: DbConfig {
                max_connections: env.parse_positive("DEBRIEF_DB_MAX_CONNECTIONS", 10)?,
                acquire_timeout: Duration::from_millis(
                    env.parse_positive("DEBRIEF_DB_ACQUIRE_TIMEOUT_MS", 2000)?,
                ),
                statement_timeout: Duration::from_millis(
                    env.parse_positive("DEBRIEF_DB_STATEMENT_TIMEOUT_MS", 10_000)?,
                ),
            },
            hash_threads: env.parse_positive("DEBRIEF_HASH_THREADS", cores)?,
            hash_wait: Duration::from_millis(env.parse_positive("DEBRIEF_HASH_WAIT_MS", 5000)?),
            cpu_threads: env.parse_positive("DEBRIEF_CPU_THREADS", cores)?,
            log_format,
            trusted_proxies,
        })
    }

    /// The database URL with its password hidden, fit for messages and logs.
    pub fn database_url_for_display(&self) -> String {
        redact_url(self.database_url.expose_secret())
    }
}

/// `DEBRIEF_STORAGE=local` (artifacts under `DEBRIEF_STORAGE_DIR`, by
/// default `<data dir>/artifacts`) or `s3` (the `DEBRIEF_S3_*` variables).
fn storage_config(env: &Env, data_dir: &std::path::Path) -> Result<StorageConfig, ConfigError> {
    match env.get("DEBRIEF_STORAGE").unwrap_or("local") {
        "local" => {
            let dir = env
                .get("DEBRIEF_STORAGE_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("artifacts"));
            Ok(StorageConfig::Local { dir })
        }
        "s3" => {
            let bucket = env.get("DEBRIEF_S3_BUCKET").ok_or_else(|| ConfigError {
                name: "DEBRIEF_S3_BUCKET",
                value: String::new(),
                reason: "DEBRIEF_STORAGE=s3 needs the bucket's name".into(),
            })?;
            let endpoint = env.get("DEBRIEF_S3_ENDPOINT").map(str::to_owned);
            if let Some(endpoint) = &endpoint
                && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
            {
                return Err(ConfigError {
                    name: "DEBRIEF_S3_ENDPOINT",
                    value: endpoint.clone(),
                    reason: "expected a URL starting with http:// or https://".into(),
                });
            }
            Ok(StorageConfig::S3(S3Config {
                bucket: bucket.to_owned(),
                endpoint,
                region: env.get("DEBRIEF_S3_REGION").unwrap_or("us-east-1").to_owned(),
                access_key_id: env.get("DEBRIEF_S3_ACCESS_KEY_ID").map(str::to_owned),
                secret_access_key: env
                    .get("DEBRIEF_S3_SECRET_ACCESS_KEY")
                    .map(|s| SecretString::from(s.to_owned())),
                timeout: Duration::from_secs(env.parse_positive("DEBRIEF_S3_TIMEOUT_SECS", 60)?),
            }))
        }
        other => Err(ConfigError {
            name: "DEBRIEF_STORAGE",
            value: other.to_owned(),
            reason: "expected local or s3".into(),
        }),
    }
}

struct Env(HashMap<String, String>);

impl Env {
    /// A set, non-empty variable.
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn parse<T: FromStr>(&self, name: &'static str, default: &str, expected: &str) -> Result<T, ConfigError> {
        let raw = self.get(name).unwrap_or(default);
        raw.parse().map_err(|_| ConfigError {
            name,
            value: raw.to_owned(),
            reason: format!("expected {expected}"),
        })
    }

    fn parse_positive<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Default + Copy,
    {
        let Some(raw) = self.get(name) else { return Ok(default) };
        match raw.parse::<T>() {
            Ok(value) if value > T::default() => Ok(value),
            _ => Err(ConfigError {
                name,
                value: raw.to_owned(),
                reason: "expected a whole number greater than zero".into(),
            }),
        }
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => {
                Err(ConfigError { name, value: other.to_owned(), reason: "expected true or false".into() })
            }
        }
    }
}

/// Accepts `http(s)://host[:port]` with an optional trailing slash and
/// returns the origin without it.
fn parse_base_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or("expected a URL starting with http:// or https://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err("expected scheme and host only, like https://debrief.example.com".into());
    }
    Ok(trimmed.to_owned())
}

/// Hides the password of a `postgres://user:password@host/db` URL.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn defaults_are_local_and_safe() {
        let config = config(&[]).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(config.max_upload_bytes, 256 * 1024 * 1024);
        assert_eq!(config.session_idle, Duration::from_secs(30 * 60));
        assert_eq!(config.session_absolute, Duration::from_secs(12 * 3600));
        assert!(!config.secure_cookies);
        assert_eq!(config.webhook_timeout, Duration::from_secs(10));
        assert_eq!(config.webhook_backoff, Duration::from_secs(30));
        assert_eq!(config.webhook_attempts, 8);
        assert_eq!(config.audit_retention_days, 365);
    }

    #[test]
    fn an_audit_retention_of_zero_days_keeps_events_forever() {
        let forever = config(&[("DEBRIEF_AUDIT_RETENTION_DAYS", "0")]).unwrap();
        assert_eq!(forever.audit_retention_days, 0);
    }

    #[test]
    fn https_base_url_turns_secure_cookies_on_unless_told_otherwise() {
        assert!(config(&[("DEBRIEF_BASE_URL", "https://debrief.example.com/")]).unwrap().secure_cookies);
        let off =
            config(&[("DEBRIEF_BASE_URL", "https://d.example.com"), ("DEBRIEF_SECURE_COOKIES", "false")]);
        assert!(!off.unwrap().secure_cookies);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases = [
            ("DEBRIEF_BIND", "localhost"),
            ("DEBRIEF_MAX_UPLOAD_BYTES", "-5"),
            ("DEBRIEF_MAX_UPLOAD_BYTES", "0"),
            ("DEBRIEF_SECURE_COOKIES", "maybe"),
            ("DEBRIEF_BASE_URL", "debrief.example.com"),
            ("DEBRIEF_BASE_URL", "https://example.com/path"),
            ("DEBRIEF_LOG_FORMAT", "xml"),
            ("DATABASE_URL", "mysql://localhost/debrief"),
            ("DEBRIEF_SESSION_IDLE_MINUTES", "soon"),
            ("DEBRIEF_TRUSTED_PROXIES", "10.0.0.1, the load balancer"),
            ("DEBRIEF_HASH_THREADS", "0"),
            ("DEBRIEF_CPU_THREADS", "many"),
            ("DEBRIEF_WEBHOOK_TIMEOUT_MS", "0"),
            ("DEBRIEF_WEBHOOK_ATTEMPTS", "21"),
            ("DEBRIEF_AUDIT_RETENTION_DAYS", "a year"),
            ("DEBRIEF_AUDIT_RETENTION_DAYS", "-1"),
        ];
        for (name, value) in cases {
            let err = config(&[(name, value)]).expect_err(name);
            assert_eq!(err.name, name);
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn passwords_never_appear_in_displayed_urls() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/debrief"), "postgres://app:***@db:5432/debrief");
        assert_eq!(redact_url("postgres://app@db/debrief"), "postgres://app@db/debrief");
        let err = config(&[("DATABASE_URL", "mysql://u:hunter2@h/d")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
