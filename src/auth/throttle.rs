//! Login throttling against password guessing. Counted in PostgreSQL, so it
//! holds across restarts and across several app instances.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::db::{self, Failures};
use crate::error::{AppError, Result};

/// Failures allowed for one account within [`ACCOUNT_WINDOW_SECS`].
pub const ACCOUNT_LIMIT: i64 = 10;
pub const ACCOUNT_WINDOW_SECS: i64 = 15 * 60;
/// Failures allowed from one address within [`ADDRESS_WINDOW_SECS`].
pub const ADDRESS_LIMIT: i64 = 30;
pub const ADDRESS_WINDOW_SECS: i64 = 60 * 60;

/// A sign-in attempt, counted as a failure from the moment it is admitted
/// until its password is found right.
#[derive(Debug, Clone, Copy)]
pub struct Attempt(i64);

/// Counts the attempt before its password is checked, or refuses it with
/// 429 when the account or the address is at its limit. Counting and
/// checking happen under one lock per account and per address, so a burst
/// of parallel attempts gets no more guesses than the limit, whatever its
/// size. Unknown emails are counted alike.
pub async fn admit(pool: &PgPool, email: &str, ip: &str) -> Result<Attempt> {
    let mut tx = pool.begin().await?;
    db::lock_login_attempts(&mut tx, email, ip).await?;
    let account = db::failures_for_email(&mut *tx, email, ACCOUNT_WINDOW_SECS).await?;
    if let Some(wait) = blocked_for(account, ACCOUNT_LIMIT, ACCOUNT_WINDOW_SECS) {
        tracing::warn!("login throttled for an account");
        return Err(AppError::TooManyRequests { retry_after_secs: wait });
    }
    let address = db::failures_for_ip(&mut *tx, ip, ADDRESS_WINDOW_SECS).await?;
    if let Some(wait) = blocked_for(address, ADDRESS_LIMIT, ADDRESS_WINDOW_SECS) {
        tracing::warn!(client_ip = %ip, "login throttled for an address");
        return Err(AppError::TooManyRequests { retry_after_secs: wait });
    }
    let id = db::record_login_attempt(&mut *tx, email, ip, false).await?;
    tx.commit().await?;
    Ok(Attempt(id))
}

/// The password was right: the attempt no longer counts as a failure, and
/// the account's count starts again.
pub async fn succeeded(pool: &PgPool, attempt: Attempt) -> Result<()> {
    db::mark_login_attempt_succeeded(pool, attempt.0).await
}

/// The password was never checked (the server was too busy): the attempt
/// was no guess, so it is not counted.
pub async fn withdraw(pool: &PgPool, attempt: Attempt) -> Result<()> {
    db::delete_login_attempt(pool, attempt.0).await
}

/// Seconds until the oldest counted failure leaves the window, when the
/// limit is reached.
fn blocked_for(failures: Failures, limit: i64, window_secs: i64) -> Option<u64> {
    if failures.count < limit {
        return None;
    }
    let oldest = failures.oldest?;
    let elapsed = (OffsetDateTime::now_utc() - oldest).whole_seconds();
    Some((window_secs - elapsed).clamp(1, window_secs) as u64)
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;

    #[test]
    fn below_the_limit_nothing_is_blocked() {
        let failures = Failures { count: 9, oldest: Some(OffsetDateTime::now_utc()) };
        assert_eq!(blocked_for(failures, 10, 900), None);
    }

    #[test]
    fn at_the_limit_the_wait_is_until_the_oldest_failure_expires() {
        let oldest = OffsetDateTime::now_utc() - Duration::minutes(5);
        let wait = blocked_for(Failures { count: 10, oldest: Some(oldest) }, 10, 900).unwrap();
        assert!((599..=600).contains(&wait), "{wait}");
    }
}
