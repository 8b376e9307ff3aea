//! The durable queue of analyses, in PostgreSQL itself: one `analysis_job`
//! row per artifact waiting, claimed with `FOR UPDATE SKIP LOCKED` so that
//! several app processes share the work without taking the same job.
//!
//! A small table rather than a queue crate: the job is one column, the
//! claim one statement, and the result is stored in the same transaction
//! that ends the job, which a queue outside our schema could not join.
//!
//! A claim is a lease: the job stays in the table, marked until
//! `locked_until`, and the worker renews the lease while it works. A process
//! that dies mid-analysis stops renewing, its lease runs out, and the job is
//! claimed again by whichever process asks next. The result is saved only by
//! the holder of the current lease, so an analysis is stored once even when
//! a stalled process and its replacement both ran it.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::Result;

/// After this many failed attempts an analysis is given up as failed.
pub const MAX_ATTEMPTS: i32 = 3;

/// A claimed job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub artifact_id: Uuid,
    pub attempts: i32,
}

pub async fn enqueue(db: &mut PgConnection, artifact_id: Uuid) -> Result<()> {
    sqlx::query("insert into analysis_job (artifact_id) values ($1) on conflict (artifact_id) do nothing")
        .bind(artifact_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Takes the oldest job that is ready and not leased by a live worker, for
/// `lease`.
pub async fn claim(pool: &PgPool, worker: &str, lease: Duration) -> Result<Option<Job>> {
    let sql = "update analysis_job set locked_by = $1, locked_until = now() + $2::interval, \
                 attempts = attempts + 1 \
               where id = (select id from analysis_job \
                           where run_after <= now() and (locked_until is null or locked_until < now()) \
                           order by run_after, id for update skip locked limit 1) \
               returning id, artifact_id, attempts";
    let lease = format!("{} milliseconds", lease.as_millis());
    Ok(sqlx::query_as(sql).bind(worker).bind(lease).fetch_optional(pool).await?)
}

/// Extends `worker`'s lease on `job` by `lease` from now; says whether the
/// worker still held it (a lease that ran out may have been taken over).
pub async fn renew(pool: &PgPool, job: &Job, worker: &str, lease: Duration) -> Result<bool> {
    let sql = "update analysis_job set locked_until = now() + $3::interval \
               where id = $1 and locked_by = $2 and locked_until >= now()";
    let lease = format!("{} milliseconds", lease.as_millis());
    let renewed = sqlx::query(sql).bind(job.id).bind(worker).bind(lease).execute(pool).await?;
    Ok(renewed.rows_affected() == 1)
}

/// What an analysis came to.
#[derive(Debug)]
pub enum Outcome {
    Done {
        analysis: serde_json::Value,
        summary: String,
    },
    /// The file cannot be analysed; trying again would not help.
    Failed(String),
    /// Something outside the file failed (the store, a timeout): try again
    /// later, unless this was the last attempt.
    Retry(String),
}

/// Stores the outcome of `job` and ends it, if `worker` still holds it.
/// Says whether it did: a worker whose lease ran out and was taken over
/// stores nothing.
pub async fn finish(pool: &PgPool, job: &Job, worker: &str, outcome: Outcome) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let held: Option<i64> = sqlx::query_scalar(
        "select id from analysis_job where id = $1 and locked_by = $2 and locked_until >= now() for update",
    )
    .bind(job.id)
    .bind(worker)
    .fetch_optional(&mut *tx)
    .await?;
    if held.is_none() {
        return Ok(false);
    }
    let outcome = match outcome {
        Outcome::Retry(reason) if job.attempts < MAX_ATTEMPTS => {
            // Back off: 30 s, then 2 min.
            let wait = format!("{} seconds", 30 * 4i64.pow(job.attempts as u32 - 1));
            sqlx::query(
                "update analysis_job set locked_by = null, locked_until = null, last_error = $2, \
                 run_after = now() + $3::interval where id = $1",
            )
            .bind(job.id)
            .bind(&reason)
            .bind(wait)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(true);
        }
        Outcome::Retry(reason) => {
            Outcome::Failed(format!("{reason} (gave up after {} attempts)", job.attempts))
        }
        other => other,
    };
    match outcome {
        Outcome::Done { analysis, summary } => {
            sqlx::query(
                "update artifact set analysis_status = 'done', analysis = $2, summary = $3, analysis_error = null, \
                 analysed_at = now(), version = version + 1 where id = $1",
            )
            .bind(job.artifact_id)
            .bind(sqlx::types::Json(analysis))
            .bind(summary)
            .execute(&mut *tx)
            .await?;
        }
        Outcome::Failed(reason) | Outcome::Retry(reason) => {
            sqlx::query(
                "update artifact set analysis_status = 'failed', analysis = null, analysis_error = $2, \
                 analysed_at = now(), version = version + 1 where id = $1",
            )
            .bind(job.artifact_id)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        }
    }
    sqlx::query("delete from analysis_job where id = $1").bind(job.id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// How many jobs wait or run.
pub async fn depth(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("select count(*) from analysis_job").fetch_one(pool).await?)
}
