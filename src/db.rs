//! The PostgreSQL pool: bounded waits on both sides (acquire timeout here,
//! `statement_timeout` on the server), the database created if missing, and
//! the embedded migrations run before anything else touches it.

use std::{str::FromStr, time::Duration};

use anyhow::{Context, anyhow};
use secrecy::ExposeSecret;
use sqlx::{
    ConnectOptions, Connection, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tower_sessions_sqlx_store::PostgresStore;

use crate::{MIGRATOR, config::Config};

/// Connects, creating the database when it does not exist yet, and migrates.
/// Errors are one line, fit to print as the reason the app cannot start.
pub async fn connect_and_migrate(config: &Config) -> anyhow::Result<PgPool> {
    let options = connect_options(config)?;
    let where_ = describe(&options);
    ensure_database_exists(&options, config.db.acquire_timeout)
        .await
        .with_context(|| format!("cannot reach PostgreSQL at {where_}"))?;
    let pool = pool_options(config)
        .connect_with(options)
        .await
        .map_err(|err| anyhow!("cannot reach PostgreSQL at {where_}: {err}"))?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Runs the app's migrations and creates the session table.
///
/// On a connection of their own with a statement limit of
/// [`MIGRATION_TIMEOUT`]: a migration that rebuilds an index over every
/// incident takes longer than the limit that guards a request.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await.context("no connection to migrate with")?;
    let limit = format!("set statement_timeout = {}", MIGRATION_TIMEOUT.as_millis());
    sqlx::raw_sql(&limit).execute(&mut *conn).await?;
    let migrated = MIGRATOR.run(&mut *conn).await;
    // Back to the pool's own limit, or the connection goes with its error.
    if migrated.is_err() || sqlx::raw_sql("reset statement_timeout").execute(&mut *conn).await.is_err() {
        conn.detach();
    }
    migrated.context("database migration failed")?;
    PostgresStore::new(pool.clone()).migrate().await.context("session table migration failed")?;
    Ok(())
}

/// The longest one statement of a migration may run.
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Pool settings shared by the server and the command line.
pub fn pool_options(config: &Config) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(config.db.max_connections)
        .min_connections(0)
        .acquire_timeout(config.db.acquire_timeout)
        .idle_timeout(Duration::from_secs(300))
        // Pinging before every use doubles the round trips of a busy app;
        // ping only connections that sat idle, the ones a restarted
        // server may have dropped. A busy connection that broke fails its
        // query (503) and is discarded.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// How long a connection may sit idle before it is checked on its next use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(2);

/// Connection options from `DATABASE_URL`, with the server-side timeouts.
pub fn connect_options(config: &Config) -> anyhow::Result<PgConnectOptions> {
    let statement_ms = config.db.statement_timeout.as_millis().to_string();
    let options = PgConnectOptions::from_str(config.database_url.expose_secret())
        .map_err(|err| anyhow!("DATABASE_URL {} is not usable: {err}", config.database_url_for_display()))?
        .application_name("debrief")
        .options([
            ("statement_timeout", statement_ms.as_str()),
            ("idle_in_transaction_session_timeout", "60000"),
            ("lock_timeout", statement_ms.as_str()),
        ])
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
    Ok(options)
}

/// `host:port/database as user`, never the password.
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{} as {}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username()),
        options.get_username()
    )
}

/// Creates the target database through the maintenance database when
/// connecting to it says it does not exist.
async fn ensure_database_exists(options: &PgConnectOptions, wait: Duration) -> anyhow::Result<()> {
    let attempt = tokio::time::timeout(wait, PgConnection::connect_with(options)).await;
    match attempt {
        Err(_) => Err(anyhow!("no answer within {} ms", wait.as_millis())),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(sqlx::Error::Database(db))) if db.code().as_deref() == Some("3D000") => {
            let name = options.get_database().unwrap_or(options.get_username()).to_owned();
            let maintenance = options.clone().database("postgres");
            let mut conn = tokio::time::timeout(wait, PgConnection::connect_with(&maintenance))
                .await
                .map_err(|_| anyhow!("no answer within {} ms", wait.as_millis()))??;
            let create = format!("create database {}", quote_identifier(&name));
            match sqlx::query(&create).execute(&mut conn).await {
                Ok(_) => tracing::info!(database = %name, "created the database"),
                // Another instance created it first: fine.
                Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => {}
                Err(err) => return Err(anyhow!("cannot create database {name:?}: {err}")),
            }
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(err)) => Err(err.into()),
    }
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_safely() {
        assert_eq!(quote_identifier("debrief"), "\"debrief\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
