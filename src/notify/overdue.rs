//! Action items past their due date, each noticed once: its owner is told,
//! and so is every webhook that wants to hear of it.

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::{Event, Kind};
use crate::{error::Result, incidents::db::find_incident};

/// At most this many items are noticed in one sweep; the rest wait for the
/// next.
const PER_SWEEP: i64 = 500;

/// Notices the open items due before `today` that were not noticed yet;
/// returns how many.
pub async fn notice(pool: &PgPool, origin: &str, today: Date) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let due: Vec<(Uuid, Uuid, Uuid, String, Date)> = sqlx::query_as(
        "with noticed as ( \
             insert into action_item_overdue_notice (action_item_id) \
             select a.id from action_item a \
              where a.due_on < $1 and a.status in ('open', 'in_progress') and a.owner_id is not null \
                and not exists (select 1 from action_item_overdue_notice n where n.action_item_id = a.id) \
              order by a.due_on limit $2 \
             on conflict do nothing returning action_item_id) \
         select a.id, a.incident_id, a.owner_id, a.title, a.due_on \
           from action_item a join noticed n on n.action_item_id = a.id",
    )
    .bind(today)
    .bind(PER_SWEEP)
    .fetch_all(&mut *tx)
    .await?;
    for (_, incident_id, owner, title, due_on) in &due {
        let Some(incident) = find_incident(&mut *tx, *incident_id).await? else { continue };
        let text = format!("Your action item on {} was due {due_on}: {title}", incident.reference);
        let event = Event {
            kind: Kind::ActionItemOverdue,
            incident: &incident,
            actor: None,
            recipients: vec![*owner],
            text,
            path: format!("/incidents/{}#action-items", incident.reference),
        };
        super::emit(&mut tx, origin, &event).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}
