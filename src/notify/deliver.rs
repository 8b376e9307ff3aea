//! Delivering webhooks from their durable queue: the `webhook_delivery`
//! rows that a change wrote in its own transaction, posted to their
//! endpoints by one task per app process, a few at a time, off the request
//! path so that a slow or dead endpoint never slows a page.
//!
//! A claim is a lease, as for the analyses (see `evidence::queue`): the row
//! stays in the table, marked until `locked_until`, and a process that dies
//! mid-delivery leaves it to be claimed again once the lease runs out. The
//! lease is longer than a delivery may take, so a live deliverer always
//! finishes before it could be taken over; the outcome is written only
//! while the row still carries the lease it was claimed with.
//!
//! A receiver may therefore get a delivery twice (we posted, then died
//! before writing it down): `x-debrief-delivery` lets it tell.

use std::{fmt, sync::Arc, time::Duration};

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::{sync::Notify, task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::sign::signature;
use crate::error::Result;

/// Deliveries in flight at once, per process.
const CONCURRENCY: usize = 4;
/// How often an idle deliverer looks for work others queued, or for
/// retries that have come due.
const POLL: Duration = Duration::from_secs(1);
/// Added to the delivery timeout for the lease: time to write the outcome.
const LEASE_MARGIN: Duration = Duration::from_secs(15);
/// The longest wait between two tries of one delivery.
const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);
/// How often finished deliveries past [`KEEP_DAYS`] are removed.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);
/// Days a delivered or failed delivery stays in the log.
const KEEP_DAYS: i32 = 30;
/// Of a response that is not a success, this much is read, to quote.
const MAX_RESPONSE_BYTES: usize = 4 * 1024;
/// The error kept of an attempt, in characters.
const MAX_ERROR_CHARS: usize = 300;

/// The webhook deliverer: one per app process, woken when a change has
/// queued deliveries. Cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    pool: PgPool,
    /// `None` only when the HTTP client could not be built at start (logged
    /// then); every attempt then fails with a message saying so.
    client: Option<reqwest::Client>,
    wake: Arc<Notify>,
    timeout: Duration,
    backoff: Duration,
    max_attempts: i32,
}

impl fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliverer")
            .field("timeout", &self.timeout)
            .field("backoff", &self.backoff)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// A delivery claimed for one attempt, with what posting it needs.
#[derive(Debug, sqlx::FromRow)]
struct Claimed {
    id: Uuid,
    webhook_id: Uuid,
    event: String,
    body: String,
    /// This attempt's number, from 1.
    attempts: i32,
    /// The lease: the outcome is written only while the row still has it.
    locked_until: OffsetDateTime,
    url: String,
    secret: String,
}

/// How one attempt went.
#[derive(Debug)]
struct Attempt {
    status: Option<i32>,
    error: Option<String>,
    duration_ms: i32,
}

impl Attempt {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|status| (200..300).contains(&status))
    }
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Delivered,
    RetryIn(Duration),
    Failed,
}

impl Next {
    fn state(self) -> &'static str {
        match self {
            Next::Delivered => "delivered",
            Next::RetryIn(_) => "pending",
            Next::Failed => "failed",
        }
    }
}

impl Deliverer {
    pub fn new(pool: PgPool, config: &crate::config::Config) -> Deliverer {
        Deliverer {
            pool,
            client: http_client(config.webhook_timeout),
            wake: Arc::default(),
            timeout: config.webhook_timeout,
            backoff: config.webhook_backoff,
            max_attempts: config.webhook_attempts,
        }
    }

    /// Call after committing a transaction that queued deliveries, so they
    /// go out now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers until `stop`, [`CONCURRENCY`] at a time. A failure of the
    /// database is logged and retried at the next poll; a delivery is never
    /// lost with it. Once stopped, deliveries in flight get at most their
    /// own timeout to finish; any cut short are retried, by this process
    /// or another, when their lease runs out.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        let mut running = JoinSet::new();
        let mut pruned: Option<Instant> = None;
        loop {
            if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                pruned = Some(Instant::now());
                match self.prune().await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "removed old webhook deliveries"),
                    Err(err) => tracing::warn!(error = %err, "could not remove old webhook deliveries"),
                }
            }
            self.fill(&mut running).await;
            tokio::select! {
                _ = stop.cancelled() => break,
                Some(joined) = running.join_next(), if !running.is_empty() => log_join(joined),
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
        self.drain(running).await;
    }

    /// Delivers everything due now, one attempt each, and returns how many
    /// attempts it made; for tests and the CLI.
    pub async fn run_ready(&self) -> Result<usize> {
        let mut attempted = 0;
        loop {
            let claimed = self.claim(CONCURRENCY).await?;
            if claimed.is_empty() {
                return Ok(attempted);
            }
            attempted += claimed.len();
            futures_util::future::join_all(claimed.into_iter().map(|delivery| self.deliver(delivery))).await;
        }
    }

    /// Removes the deliveries that ended more than [`KEEP_DAYS`] ago, with
    /// their attempts; says how many.
    pub async fn prune(&self) -> Result<u64> {
        const BATCH: u64 = 1000;
        let mut removed = 0;
        loop {
            // In batches, so that no one statement runs into the timeout.
            let batch = sqlx::query(
                "delete from webhook_delivery where id in (select id from webhook_delivery \
                 where state in ('delivered', 'failed') and created_at < now() - make_interval(days => $1) \
                 limit $2)",
            )
            .bind(KEEP_DAYS)
            .bind(BATCH as i64)
            .execute(&self.pool)
            .await?
            .rows_affected();
            removed += batch;
            if batch < BATCH {
                return Ok(removed);
            }
        }
    }

    /// Claims due deliveries into the free places of `running`.
    async fn fill(&self, running: &mut JoinSet<()>) {
        while running.len() < CONCURRENCY {
            let free = CONCURRENCY - running.len();
            let claimed = match self.claim(free).await {
                Ok(claimed) => claimed,
                Err(err) => {
                    tracing::warn!(error = %err, "could not claim webhook deliveries");
                    return;
                }
            };
            let more = claimed.len() == free;
            for delivery in claimed {
                let deliverer = self.clone();
                running.spawn(async move { deliverer.deliver(delivery).await });
            }
            if !more {
                return;
            }
        }
    }

    /// Waits for the deliveries in flight, at most as long as one may take.
    async fn drain(&self, mut running: JoinSet<()>) {
        if running.is_empty() {
            return;
        }
        let all = async {
            while let Some(joined) = running.join_next().await {
                log_join(joined);
            }
        };
        if tokio::time::timeout(self.timeout + Duration::from_secs(1), all).await.is_err() {
            tracing::warn!(
                "stopped with webhook deliveries in flight; they are retried when their lease runs out"
            );
        }
        // Dropping the set aborts whatever is left.
    }

    /// Leases up to `limit` due deliveries, oldest due first, counting the
    /// attempt now: a delivery whose process dies mid-request still uses up
    /// one of its attempts, so one that crashes us cannot loop for ever.
    async fn claim(&self, limit: usize) -> Result<Vec<Claimed>> {
        let lease = format!("{} milliseconds", (self.timeout + LEASE_MARGIN).as_millis());
        // SKIP LOCKED: several processes share the queue without taking the
        // same delivery or waiting on each other.
        let sql = "with due as ( \
                       select id from webhook_delivery \
                       where state = 'pending' and next_attempt_at <= now() \
                         and (locked_until is null or locked_until < now()) \
                       order by next_attempt_at, id for update skip locked limit $1) \
                   update webhook_delivery d set locked_until = now() + $2::interval, attempts = d.attempts + 1 \
                   from due, webhook w \
                   where d.id = due.id and w.id = d.webhook_id \
                   returning d.id, d.webhook_id, d.event, d.body, d.attempts, d.locked_until, w.url, w.secret";
        Ok(sqlx::query_as(sql).bind(limit as i64).bind(lease).fetch_all(&self.pool).await?)
    }

    /// One attempt at `delivery`, and its outcome written down.
    #[tracing::instrument(skip_all, fields(delivery = %delivery.id, webhook = %delivery.webhook_id, event = %delivery.event, attempt = delivery.attempts))]
    async fn deliver(&self, delivery: Claimed) {
        let gave_up = delivery.attempts > self.max_attempts;
        let (attempt, next) = if gave_up {
            // Claimed again after a try that never finished (the process
            // died mid-request, or the limit was lowered): not again.
            let error = format!("gave up after {} attempts", delivery.attempts - 1);
            (Attempt { status: None, error: Some(error), duration_ms: 0 }, Next::Failed)
        } else {
            let attempt = self.attempt(&delivery).await;
            let next = next_step(attempt.succeeded(), delivery.attempts, self.max_attempts, self.backoff);
            (attempt, next)
        };
        match next {
            Next::Delivered => tracing::info!(
                status = attempt.status,
                duration_ms = attempt.duration_ms,
                "webhook delivered"
            ),
            Next::RetryIn(wait) => tracing::warn!(
                status = attempt.status,
                error = attempt.error.as_deref().unwrap_or_default(),
                retry_in_ms = wait.as_millis() as u64,
                "webhook delivery failed; will retry"
            ),
            Next::Failed => tracing::warn!(
                status = attempt.status,
                error = attempt.error.as_deref().unwrap_or_default(),
                "webhook delivery failed; giving up"
            ),
        }
        let recorded = if gave_up {
            self.give_up(&delivery, &attempt).await
        } else {
            self.finish(&delivery, &attempt, next).await
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("the lease on a webhook delivery ran out; this attempt is not recorded")
            }
            Err(err) => tracing::warn!(error = %err, "could not record a webhook attempt; it is retried"),
        }
    }

    /// Posts the delivery's body, as stored, signed with its webhook's
    /// secret.
    async fn attempt(&self, delivery: &Claimed) -> Attempt {
        let started = std::time::Instant::now();
        let (status, error) = match &self.client {
            None => (None, Some("the HTTP client could not be built; see the log at start".to_owned())),
            Some(client) => {
                let request = client
                    .post(&delivery.url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header("x-debrief-event", &delivery.event)
                    .header("x-debrief-delivery", delivery.id.to_string())
                    .header("x-debrief-signature", signature(&delivery.secret, &delivery.body))
                    .body(delivery.body.clone());
                // The client's timeout covers the whole exchange; this one
                // only makes sure nothing outlives it.
                match tokio::time::timeout(self.timeout + Duration::from_millis(100), post(request)).await {
                    Ok(Ok((status, None))) => (Some(status), None),
                    Ok(Ok((status, Some(answer)))) => (Some(status), Some(answer)),
                    Ok(Err(err)) => (None, Some(describe(err, self.timeout))),
                    Err(_) => (None, Some(timed_out(self.timeout))),
                }
            }
        };
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        Attempt { status, error: error.map(|error| shorten(&error, MAX_ERROR_CHARS)), duration_ms }
    }

    /// Writes the attempt and what comes next, if the lease is still ours.
    async fn finish(&self, delivery: &Claimed, attempt: &Attempt, next: Next) -> Result<bool> {
        let wait = match next {
            Next::RetryIn(wait) => wait,
            Next::Delivered | Next::Failed => Duration::ZERO,
        };
        let mut tx = self.pool.begin().await?;
        // `state = 'pending'`: a webhook switched off meanwhile has had its
        // pending deliveries failed, and they stay so.
        let held = sqlx::query(
            "update webhook_delivery set state = $4, locked_until = null, last_status = $5, last_error = $6, \
               delivered_at = case when $4 = 'delivered' then now() else delivered_at end, \
               next_attempt_at = case when $4 = 'pending' then now() + $7::interval else next_attempt_at end \
             where id = $1 and attempts = $2 and locked_until = $3 and state = 'pending'",
        )
        .bind(delivery.id)
        .bind(delivery.attempts)
        .bind(delivery.locked_until)
        .bind(next.state())
        .bind(attempt.status)
        .bind(&attempt.error)
        .bind(format!("{} milliseconds", wait.as_millis()))
        .execute(&mut *tx)
        .await?;
        if held.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "insert into webhook_attempt (delivery_id, attempt, status, error, duration_ms) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(delivery.id)
        .bind(delivery.attempts)
        .bind(attempt.status)
        .bind(&attempt.error)
        .bind(attempt.duration_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Fails a delivery that was not tried again, if the lease is ours.
    async fn give_up(&self, delivery: &Claimed, attempt: &Attempt) -> Result<bool> {
        let held = sqlx::query(
            "update webhook_delivery set state = 'failed', locked_until = null, last_error = $4 \
             where id = $1 and attempts = $2 and locked_until = $3 and state = 'pending'",
        )
        .bind(delivery.id)
        .bind(delivery.attempts)
        .bind(delivery.locked_until)
        .bind(&attempt.error)
        .execute(&self.pool)
        .await?;
        Ok(held.rows_affected() == 1)
    }
}

/// The client every delivery is posted with: bounded in time, following
/// no redirects (a redirect is an answer that is not a success, and
/// following one would send the signed body where the admin did not say).
///
/// Where it may connect is the admin's to say: an address inside the
/// network is allowed, as internal receivers are common.
fn http_client(timeout: Duration) -> Option<reqwest::Client> {
    crate::install_tls_provider();
    let built = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Debrief-Webhook/1")
        .build();
    match built {
        Ok(client) => Some(client),
        Err(err) => {
            tracing::error!(error = %err, "cannot build the webhook HTTP client; webhooks will fail");
            None
        }
    }
}

/// Sends `request`; the status and, for an answer that is not a success,
/// the start of what it said.
async fn post(request: reqwest::RequestBuilder) -> reqwest::Result<(i32, Option<String>)> {
    let mut response = request.send().await?;
    let status = response.status();
    if status.is_success() {
        return Ok((i32::from(status.as_u16()), None));
    }
    let mut body = Vec::new();
    // A few KB at most, and a body cut short by the timeout is quoted as
    // far as it came.
    while body.len() < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(MAX_RESPONSE_BYTES);
    let said = String::from_utf8_lossy(&body).split_whitespace().collect::<Vec<_>>().join(" ");
    let answer =
        if said.is_empty() { format!("answered {status}") } else { format!("answered {status}: {said}") };
    Ok((i32::from(status.as_u16()), Some(answer)))
}

/// A short reason for a request that got no answer, without the URL (it
/// may hold a token, as Slack's do).
fn describe(err: reqwest::Error, timeout: Duration) -> String {
    if err.is_timeout() {
        return timed_out(timeout);
    }
    let what = if err.is_connect() { "could not connect" } else { "the request failed" };
    let err = err.without_url();
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    // The innermost cause says most ("Connection refused (os error 111)").
    match causes.last() {
        Some(cause) => format!("{what}: {cause}"),
        None => format!("{what}: {err}"),
    }
}

fn timed_out(timeout: Duration) -> String {
    format!("no answer within {} ms", timeout.as_millis())
}

/// At most `max` characters of `text`.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// What follows attempt number `attempt` (from 1).
fn next_step(succeeded: bool, attempt: i32, max_attempts: i32, backoff: Duration) -> Next {
    if succeeded {
        Next::Delivered
    } else if attempt >= max_attempts {
        Next::Failed
    } else {
        Next::RetryIn(retry_after(backoff, attempt))
    }
}

/// The wait after failed attempt number `attempt`: `backoff`, doubled for
/// each attempt before, at most [`MAX_BACKOFF`].
fn retry_after(backoff: Duration, attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(31);
    backoff.checked_mul(1 << doublings).map_or(MAX_BACKOFF, |wait| wait.min(MAX_BACKOFF))
}

fn log_join(joined: std::result::Result<(), tokio::task::JoinError>) {
    if let Err(err) = joined
        && err.is_panic()
    {
        tracing::error!(error = %err, "a webhook delivery panicked");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_the_backoff_and_stops_at_an_hour() {
        let backoff = Duration::from_secs(30);
        assert_eq!(retry_after(backoff, 1), Duration::from_secs(30));
        assert_eq!(retry_after(backoff, 2), Duration::from_secs(60));
        assert_eq!(retry_after(backoff, 5), Duration::from_secs(480));
        assert_eq!(retry_after(backoff, 8), MAX_BACKOFF);
        assert_eq!(retry_after(backoff, 1000), MAX_BACKOFF);
        assert_eq!(retry_after(Duration::from_millis(50), 0), Duration::from_millis(50));
    }

    #[test]
    fn a_delivery_is_retried_until_its_last_attempt() {
        let backoff = Duration::from_secs(1);
        assert_eq!(next_step(true, 3, 3, backoff), Next::Delivered);
        assert_eq!(next_step(false, 1, 3, backoff), Next::RetryIn(Duration::from_secs(1)));
        assert_eq!(next_step(false, 2, 3, backoff), Next::RetryIn(Duration::from_secs(2)));
        assert_eq!(next_step(false, 3, 3, backoff), Next::Failed);
    }

    #[test]
    fn only_a_2xx_is_a_success() {
        let with = |status| Attempt { status, error: None, duration_ms: 1 };
        assert!(with(Some(200)).succeeded());
        assert!(with(Some(204)).succeeded());
        assert!(!with(Some(301)).succeeded());
        assert!(!with(Some(500)).succeeded());
        assert!(!with(None).succeeded());
    }

    #[test]
    fn errors_are_shortened_on_a_character_boundary() {
        assert_eq!(shorten("héllo", 2), "hé…");
        assert_eq!(shorten("hi", 2), "hi");
    }
}
