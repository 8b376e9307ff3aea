//! The bulk generator behind `debrief demo --incidents N`: any number of
//! varied, plausible incidents for benchmarks, written set-based.
//!
//! Each batch is one transaction of five statements, whatever its size:
//! PostgreSQL draws a plan per incident (service, failure mode, symptom,
//! times, how many parts) into a temporary table, then one
//! `insert ... select` per table builds the rows from it. Rust only binds
//! the vocabulary and the ids (UUIDv7 like every id of the app, so the
//! primary keys grow at their right edge even at millions of rows), so the
//! cost is PostgreSQL's inserting, not round trips.

use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tracing::log::LevelFilter;
use uuid::Uuid;

use super::{DemoPassword, Persona, ensure_user};
use crate::{auth::domain::Role, config::Config, db, error::Result};

/// The most incidents one run may generate.
pub const MAX_INCIDENTS: u32 = 10_000_000;

/// Incidents per transaction: large enough that per-statement costs vanish,
/// small enough that a batch takes a few seconds.
pub const BATCH_SIZE: u32 = 10_000;

/// The most timeline events, causes and action items of one incident. Eight
/// events: an alert, a closing event and the six other kinds once each.
const MAX_EVENTS: u32 = 8;
const MAX_CAUSES: u32 = 3;
const MAX_ACTION_ITEMS: u32 = 4;

/// The author of every generated incident, event and action item.
pub const GENERATOR: Persona =
    Persona { email: "generator@demo.debrief.dev", name: "Demo Generator", role: Role::Editor };

/// What a run did.
#[derive(Debug, Clone, Copy)]
pub struct GenerateReport {
    pub incidents: u32,
    pub elapsed: Duration,
}

impl GenerateReport {
    pub fn per_second(&self) -> f64 {
        f64::from(self.incidents) / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// Adds `count` generated incidents, `BATCH_SIZE` per transaction, and calls
/// `progress` with the running total after each batch. An interrupted run
/// keeps the batches it committed.
#[tracing::instrument(skip(pool, progress))]
pub async fn generate_incidents(
    pool: &PgPool,
    count: u32,
    mut progress: impl FnMut(u32),
) -> Result<GenerateReport> {
    let started = Instant::now();
    let mut conn = pool.acquire().await?;
    let author = generator_user(&mut conn).await?;
    let mut done = 0;
    while done < count {
        let size = BATCH_SIZE.min(count - done);
        insert_batch(&mut conn, size, author, (done, count)).await?;
        done += size;
        progress(done);
    }
    tidy_up(&mut conn).await?;
    Ok(GenerateReport { incidents: count, elapsed: started.elapsed() })
}

/// Leaves the tables as a running app wants them: dead rows gone (each
/// part inserted moved its incident's stamp) and the planner's statistics
/// fresh, rather than waiting for autovacuum to notice.
async fn tidy_up(conn: &mut PgConnection) -> Result<()> {
    sqlx::raw_sql("set statement_timeout = '30min'").execute(&mut *conn).await?;
    // VACUUM runs outside any transaction, one statement at a time.
    let vacuumed = sqlx::raw_sql(
        "vacuum (analyze) incident, incident_stamp, incident_list, timeline_event, cause, action_item, incident_revision, \
         incident_search, incident_search_text, search_word",
    )
    .execute(&mut *conn)
    .await;
    sqlx::raw_sql("reset statement_timeout").execute(&mut *conn).await?;
    vacuumed?;
    Ok(())
}

/// A pool of one connection for the generator, on the app's settings except
/// one: its batch statements take seconds by design, so they are not logged
/// as slow statements.
pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let options = db::connect_options(config)?.log_slow_statements(LevelFilter::Off, Duration::ZERO);
    let pool = db::pool_options(config).max_connections(1).connect_with(options).await?;
    Ok(pool)
}

/// The generator's user, created on first use with a password nobody knows:
/// it writes incidents, it never signs in.
async fn generator_user(conn: &mut PgConnection) -> Result<Uuid> {
    let password = DemoPassword::from_value(None).map_err(anyhow::Error::msg)?;
    let (id, _) = ensure_user(conn, &GENERATOR, &password.password).await?;
    Ok(id)
}

#[tracing::instrument(skip(conn, author))]
async fn insert_batch(conn: &mut PgConnection, size: u32, author: Uuid, place: (u32, u32)) -> Result<()> {
    let mut tx = conn.begin().await?;
    // A batch's statements run for seconds, longer than the limit that
    // protects interactive requests.
    sqlx::query("set local statement_timeout = '5min'").execute(&mut *tx).await?;
    // `generate_series` is estimated at 1,000 rows, so PostgreSQL would
    // JIT-compile every statement: about 0.25 s each, for nothing.
    sqlx::query("set local jit = off").execute(&mut *tx).await?;
    // Each statement would rewrite the batch's search rows; they are
    // written once, when the incidents are whole.
    sqlx::query("set local debrief.search_refresh = 'off'").execute(&mut *tx).await?;
    plan_incidents(&mut tx, &new_ids(size), place).await?;
    insert_incidents(&mut tx, author).await?;
    insert_timeline_events(&mut tx, author, &new_ids(size * MAX_EVENTS)).await?;
    insert_causes(&mut tx, &new_ids(size * MAX_CAUSES)).await?;
    insert_action_items(&mut tx, author, &new_ids(size * MAX_ACTION_ITEMS)).await?;
    sqlx::query("select incident_search_refresh(array(select id from incident_plan))")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Enough ids for the rows of a batch; statements take them in order.
fn new_ids(count: u32) -> Vec<Uuid> {
    (0..count).map(|_| Uuid::now_v7()).collect()
}

/// Draws what each incident of the batch is about into `incident_plan`,
/// dropped at commit. Picks are 1-based indexes into the bound vocabulary;
/// the failure mode's phrase, cause category and tag share one index.
///
/// The run's incidents follow one another over the last three years, as a
/// team's do: the batch's `place` (incidents before it, and in the run)
/// gives each its slot of time, so numbers, ids and rows on disk are in
/// the order the incidents started, as they are in a real database.
async fn plan_incidents(tx: &mut PgConnection, ids: &[Uuid], (before, run): (u32, u32)) -> Result<()> {
    let sql = "create temporary table incident_plan on commit drop as \
        select id, severity, status, services[service] as service, \
            case when two_services then array[services[service], services[1 + service % cardinality(services)]] \
                 else array[services[service]] end as services, \
            symptoms[symptom] as symptom, failures[failure] as failure, categories[failure] as category, \
            array_remove(array[tags[failure], extra_tags[extra_tag]], null) as tags, \
            mitigations[mitigation] as mitigation, follow_ups[follow_up] as follow_up, \
            started_at, started_at + detect as detected_at, started_at + detect + mitigate as mitigated_at, \
            case when status = 'draft' and unresolved then null \
                 else started_at + detect + mitigate + resolve end as resolved_at, \
            event_count, cause_count, action_count, seed \
        from ( \
            select id, \
                case when r_severity < 0.05 then 'SEV1' when r_severity < 0.25 then 'SEV2' \
                     when r_severity < 0.65 then 'SEV3' else 'SEV4' end as severity, \
                case when r_status < 0.80 then 'published' when r_status < 0.92 then 'in_review' \
                     else 'draft' end as status, \
                $2::text[] as services, $3::text[] as symptoms, $4::text[] as failures, \
                $5::text[] as categories, $6::text[] as tags, $7::text[] as extra_tags, \
                $8::text[] as mitigations, $9::text[] as follow_ups, \
                1 + floor(random() * cardinality($2::text[]))::int as service, \
                random() < 0.3 as two_services, \
                1 + floor(random() * cardinality($3::text[]))::int as symptom, \
                1 + floor(random() * cardinality($4::text[]))::int as failure, \
                case when random() < 0.6 then 1 + floor(random() * cardinality($7::text[]))::int end \
                    as extra_tag, \
                1 + floor(random() * cardinality($8::text[]))::int as mitigation, \
                1 + floor(random() * cardinality($9::text[]))::int as follow_up, \
                now() - interval '1 day' \
                    - (1 - ($13::bigint + slot - 1 + random()) / $14::bigint) * (interval '3 years' - interval '1 day') \
                    as started_at, \
                (1 + floor(random() * 30)) * interval '1 minute' as detect, \
                (5 + floor(random() * 120)) * interval '1 minute' as mitigate, \
                (10 + floor(random() * 600)) * interval '1 minute' as resolve, \
                random() < 0.5 as unresolved, \
                4 + floor(random() * ($10 - 3))::int as event_count, \
                1 + floor(random() * $11)::int as cause_count, \
                1 + floor(random() * $12)::int as action_count, \
                floor(random() * 1000)::int as seed \
            from (select id, slot, random() as r_severity, random() as r_status \
                  from unnest($1::uuid[]) with ordinality as drawn (id, slot)) draws \
        ) picks";
    sqlx::query(sql)
        .bind(ids)
        .bind(SERVICES)
        .bind(SYMPTOMS)
        .bind(FAILURES.map(|f| f.phrase))
        .bind(FAILURES.map(|f| f.category))
        .bind(FAILURES.map(|f| f.tag))
        .bind(EXTRA_TAGS)
        .bind(MITIGATIONS)
        .bind(FOLLOW_UPS)
        .bind(MAX_EVENTS as i32)
        .bind(MAX_CAUSES as i32)
        .bind(MAX_ACTION_ITEMS as i32)
        .bind(i64::from(before))
        .bind(i64::from(run.max(1)))
        // Not kept as prepared statements, like every statement here: the
        // temporary table they work on is a new one in every batch.
        .persistent(false)
        .execute(tx)
        .await?;
    Ok(())
}

async fn insert_incidents(tx: &mut PgConnection, author: Uuid) -> Result<()> {
    let sql = "insert into incident (id, title, severity, status, services, tags, started_at, detected_at, \
            mitigated_at, resolved_at, summary, impact, trigger, detection, resolution, created_by) \
        select id, \
            format('%s in %s: %s', upper(left(symptom, 1)) || substr(symptom, 2), service, failure), \
            severity, status, services, tags, started_at, detected_at, mitigated_at, resolved_at, \
            format('For %s minutes %s saw %s. The root cause was %s. %s %s', minutes, service, symptom, \
                failure, mitigation, follow_up), \
            format(E'- %s: %s for %s min.\\n- About %s requests failed (%s%% of traffic).', service, \
                symptom, minutes, to_char(minutes * (200 + seed * 7), 'FM999,999,999'), 5 + seed % 60), \
            format('Traffic on %s rose at %s and exposed %s.', service, \
                to_char(started_at at time zone 'UTC', 'HH24:MI \"UTC\"'), failure), \
            format('`%sSloBurn` paged the on-call engineer %s minutes after the start.', \
                replace(initcap(service), '-', ''), extract(epoch from detected_at - started_at)::int / 60), \
            format('%s %s', mitigation, follow_up), \
            $1 \
        from (select *, extract(epoch from mitigated_at - started_at)::int / 60 as minutes from incident_plan) p \
        order by started_at";
    sqlx::query(sql).bind(author).persistent(false).execute(tx).await?;
    Ok(())
}

/// An alert opens each timeline and a resolution closes it (an observation
/// while still unresolved). Between them, each kind comes at most once, in
/// an order that rotates from incident to incident; the moments are spread
/// evenly.
async fn insert_timeline_events(tx: &mut PgConnection, author: Uuid, ids: &[Uuid]) -> Result<()> {
    let sql = "insert into timeline_event (id, incident_id, occurred_at, kind, body, author_id, \
            hypothesis_status, evidence) \
        select ($2::uuid[])[n], id, occurred_at, kind, \
            case kind \
                when 'alert' then format('`%sSloBurn` pages: %s.', replace(initcap(service), '-', ''), symptom) \
                when 'observation' then format('Dashboards for %s show %s; the last deploy was %s hours ago.', \
                    service, symptom, 2 + (seed + n) % 20) \
                when 'hypothesis' then format('Hypothesis: %s explains %s.', failure, symptom) \
                when 'decision' then format('Declared %s; the incident commander takes coordination.', \
                    severity) \
                when 'action' then format('Captured a goroutine dump and a 30 s CPU profile from two %s pods.', \
                    service) \
                when 'mitigation' then mitigation \
                when 'communication' then format('Status page: some %s requests are failing; next update in \
                    30 minutes.', service) \
                else format('Resolved: %s has been at its baseline for an hour.', service) \
            end, \
            $1, hypothesis_status, \
            case when kind = 'hypothesis' then format('Profiles and dashboards of %s at %s.', service, \
                to_char(occurred_at at time zone 'UTC', 'HH24:MI')) else '' end \
        from ( \
            select *, case when kind = 'hypothesis' \
                then (array['confirmed', 'refuted', 'open'])[1 + floor(random() * 3)::int] end \
                as hypothesis_status \
            from ( \
                select p.*, row_number() over () as n, \
                    p.started_at + (step - 1) * (coalesce(p.resolved_at, p.mitigated_at) - p.started_at) \
                        / (p.event_count - 1) as occurred_at, \
                    case when step = 1 then 'alert' \
                         when step = p.event_count and p.resolved_at is not null then 'resolution' \
                         when step = p.event_count then 'observation' \
                         else (array['observation', 'hypothesis', 'action', 'decision', 'mitigation', \
                            'communication'])[1 + (p.seed + step) % 6] end as kind \
                from incident_plan p cross join lateral generate_series(1, p.event_count) as step \
            ) events \
        ) typed";
    sqlx::query(sql).bind(author).bind(ids).persistent(false).execute(tx).await?;
    Ok(())
}

/// The first cause is the root, in the failure mode's category; a trigger
/// and a contributing factor follow for some incidents.
async fn insert_causes(tx: &mut PgConnection, ids: &[Uuid]) -> Result<()> {
    let sql = "insert into cause (id, incident_id, kind, category, description, whys) \
        select ($2::uuid[])[row_number() over ()], p.id, (array['root', 'trigger', 'contributing'])[step], \
            case when step = 1 then p.category \
                 else ($1::text[])[1 + (p.seed + step) % cardinality($1::text[])] end, \
            case when step = 1 then format('%s in %s.', upper(left(p.failure, 1)) || substr(p.failure, 2), \
                    p.service) \
                 when step = 2 then format('A traffic peak on %s exposed the weakness.', p.service) \
                 else 'The alert that would have caught it earlier did not exist.' end, \
            case when step = 1 then array[format('%s saw %s because of %s.', p.service, p.symptom, p.failure), \
                    'The failure mode was not covered by a test or a lint rule.', \
                    'Nothing in review asked for that coverage.'] \
                 when step = 2 then array[format('Traffic on %s doubled within minutes.', p.service), \
                    'Autoscaling reacted more slowly than the load grew.'] \
                 else array['No alert watched the signal that moved first.'] end \
        from incident_plan p cross join lateral generate_series(1, p.cause_count) as step";
    let categories: Vec<&str> = FAILURES.iter().map(|f| f.category).collect();
    sqlx::query(sql).bind(categories).bind(ids).persistent(false).execute(tx).await?;
    Ok(())
}

/// Items of old incidents are mostly done; recent ones are mostly open.
async fn insert_action_items(tx: &mut PgConnection, author: Uuid, ids: &[Uuid]) -> Result<()> {
    let sql = "insert into action_item (id, incident_id, title, kind, owner_id, due_on, priority, status, \
            tracker_url) \
        select ($4::uuid[])[n], id, format(($1::text[])[pick], service), ($2::text[])[pick], $3, \
            (coalesce(resolved_at, started_at) at time zone 'UTC')::date + 7 * step, \
            case when r < 0.2 then 'P1' when r < 0.7 then 'P2' else 'P3' end, \
            case when started_at > now() - interval '60 days' \
                 then (array['open', 'open', 'in_progress', 'done'])[1 + floor(random() * 4)::int] \
                 else (array['done', 'done', 'done', 'done', 'done', 'done', 'in_progress', 'open', \
                    'wont_do'])[1 + floor(random() * 9)::int] end, \
            case when r < 0.85 then format('https://tracker.example.com/%s-%s', upper(left(service, 3)), \
                1000 + (seed * 7 + step) % 9000) end \
        from ( \
            select p.*, step, row_number() over () as n, \
                1 + (p.seed + step) % cardinality($1::text[]) as pick, random() as r \
            from incident_plan p cross join lateral generate_series(1, p.action_count) as step \
        ) items";
    sqlx::query(sql)
        .bind(ACTIONS.map(|a| a.title))
        .bind(ACTIONS.map(|a| a.kind))
        .bind(author)
        .bind(ids)
        .persistent(false)
        .execute(tx)
        .await?;
    Ok(())
}

/// A failure mode: how titles say it, its cause category, its tag.
struct Failure {
    phrase: &'static str,
    category: &'static str,
    tag: &'static str,
}

/// An action item title (`%s` is the service) and its kind.
struct Action {
    title: &'static str,
    kind: &'static str,
}

const SERVICES: [&str; 20] = [
    "checkout",
    "payments",
    "search",
    "auth",
    "ledger",
    "inventory",
    "notifications",
    "ingest",
    "pricing",
    "orders",
    "api-gateway",
    "catalog",
    "shipping",
    "recommendations",
    "billing",
    "accounts",
    "media",
    "analytics",
    "scheduler",
    "messaging",
];

const SYMPTOMS: [&str; 15] = [
    "error rates above 30%",
    "p99 latency above 5 s",
    "requests timing out",
    "pods OOM-killed",
    "throughput down 70%",
    "stale reads",
    "queue lag over 2 h",
    "login failures",
    "duplicate messages",
    "a partial outage in eu-west",
    "CPU saturation",
    "a crash loop",
    "dropped events",
    "slow page loads",
    "intermittent 502s",
];

const FAILURES: [Failure; 16] = [
    Failure {
        phrase: "an HTTP client without timeouts",
        category: "missing timeout",
        tag: "missing-timeout",
    },
    Failure {
        phrase: "goroutines leaked on unclosed response bodies",
        category: "goroutine leak",
        tag: "goroutine-leak",
    },
    Failure {
        phrase: "a request deadline not propagated to the database",
        category: "context not propagated",
        tag: "context",
    },
    Failure { phrase: "a panic in a background goroutine", category: "unrecovered panic", tag: "panic" },
    Failure { phrase: "concurrent map writes", category: "data race", tag: "data-race" },
    Failure {
        phrase: "auth middleware skipped on a new route group",
        category: "middleware chain broken",
        tag: "middleware",
    },
    Failure {
        phrase: "an exhausted database connection pool",
        category: "resource exhaustion",
        tag: "connection-pool",
    },
    Failure {
        phrase: "a flag rollout that shrank the worker pool",
        category: "config change",
        tag: "config",
    },
    Failure { phrase: "a degraded upstream DNS provider", category: "dependency failure", tag: "dns" },
    Failure { phrase: "queue consumers sized below peak", category: "capacity", tag: "capacity" },
    Failure {
        phrase: "file descriptors held by idle keep-alives",
        category: "resource exhaustion",
        tag: "file-descriptors",
    },
    Failure {
        phrase: "a retry storm against a slow dependency",
        category: "dependency failure",
        tag: "retries",
    },
    Failure { phrase: "an expired internal TLS certificate", category: "config change", tag: "tls" },
    Failure { phrase: "channel sends with no receiver", category: "goroutine leak", tag: "channels" },
    Failure { phrase: "an unbounded in-memory cache", category: "resource exhaustion", tag: "memory" },
    Failure {
        phrase: "a fan-out that ignored cancellation",
        category: "context not propagated",
        tag: "fan-out",
    },
];

const EXTRA_TAGS: [&str; 10] = [
    "customer-facing",
    "on-call",
    "weekend",
    "peak-traffic",
    "rollback",
    "kubernetes",
    "postgres",
    "go",
    "third-party",
    "region-failover",
];

const MITIGATIONS: [&str; 6] = [
    "Rolling back the last deploy restored service.",
    "A rolling restart bought time while the fix was prepared.",
    "Traffic was shifted to the standby region.",
    "Raising the limit in configuration stopped the errors.",
    "Turning the feature flag off ended the impact.",
    "Scaling the deployment out absorbed the backlog.",
];

const FOLLOW_UPS: [&str; 4] = [
    "A code fix shipped the same day.",
    "Alerting now covers the signal that moved first.",
    "The action items track the permanent fix.",
    "A load test now exercises this path before each release.",
];

// An incident's (up to four) action items take consecutive titles, so they
// differ only when there are at least four.
const _: () = assert!(ACTIONS.len() >= 4);

const ACTIONS: [Action; 8] = [
    Action { title: "Add a deadline to every outbound call from %s", kind: "prevent" },
    Action { title: "Alert on goroutine growth in %s", kind: "detect" },
    Action { title: "Document the rollback procedure for %s", kind: "process" },
    Action { title: "Put a circuit breaker in front of the dependencies of %s", kind: "mitigate" },
    Action { title: "Load-test %s at twice the peak traffic", kind: "prevent" },
    Action { title: "Add a runbook entry for this failure mode of %s", kind: "process" },
    Action { title: "Chart connection pool wait time for %s", kind: "detect" },
    Action { title: "Cap the in-memory caches of %s", kind: "prevent" },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn longest(words: impl IntoIterator<Item = &'static str>) -> usize {
        words.into_iter().map(str::len).max().unwrap_or(0)
    }

    #[test]
    fn the_longest_generated_title_fits_the_title_limit() {
        let title = longest(SYMPTOMS) + longest(SERVICES) + longest(FAILURES.map(|f| f.phrase)) + 6;
        let action = longest(ACTIONS.map(|a| a.title)) + longest(SERVICES);

        assert!(title <= 200 && action <= 200);
    }
}
