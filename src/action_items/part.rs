//! The action items' part of the incident page.

use askama::Template;
use sqlx::PgConnection;

use super::{
    db::{self, ActionItem},
    domain::{ActionItemInput, ActionKind, ActionStatus, Priority},
};
use crate::{
    auth::{self, db::User},
    error::Result,
    incidents::{
        db::Incident,
        document::{Gap, PartCtx, PartView, Records, TocEntry},
        report::{ExportOptions, Report, ReportError, table},
    },
    state::AppState,
    web::FormErrors,
};

pub const KEY: &str = "action-items";

pub struct ActionItems;

/// The choices every action item form offers.
pub struct Choices;

impl Choices {
    pub fn kinds(&self) -> &'static [ActionKind] {
        ActionKind::ALL
    }

    pub fn priorities(&self) -> &'static [Priority] {
        Priority::ALL
    }

    pub fn statuses(&self) -> &'static [ActionStatus] {
        ActionStatus::ALL
    }
}

/// The action items as one reader sees them, with the add-an-item form.
pub struct ItemsView {
    pub ctx: PartCtx,
    pub items: Vec<ActionItem>,
    /// Who may own an item: loaded only when the form is shown.
    pub owners: Vec<User>,
    pub form: ActionItemInput,
    pub errors: FormErrors,
}

impl ItemsView {
    pub async fn load(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<ItemsView> {
        let items = db::list_for_incident(&state.pool, incident.id).await?;
        let owners = if ctx.editing { auth::db::list_users(&state.pool).await? } else { Vec::new() };
        let form = ActionItemInput {
            kind: ActionKind::Prevent.to_string(),
            priority: Priority::P2.to_string(),
            status: ActionStatus::Open.to_string(),
            ..Default::default()
        };
        Ok(ItemsView { ctx, items, owners, form, errors: FormErrors::default() })
    }
}

#[derive(Template)]
#[template(path = "action_items/section.html")]
struct ItemsHtml<'a> {
    ctx: &'a PartCtx,
    items: &'a [ActionItem],
    today: &'a time::Date,
    owners: &'a [User],
    choices: Choices,
    item_form: &'a ActionItemInput,
    item_errors: &'a FormErrors,
    item_action: String,
    item_version: Option<i32>,
}

impl PartView for ItemsView {
    fn key(&self) -> &'static str {
        KEY
    }

    fn toc(&self) -> Option<TocEntry> {
        let open = self.items.iter().filter(|item| item.status.is_open()).count();
        let count = match (self.items.len(), open) {
            (0, _) => String::new(),
            (_, 1) => "1 open".to_owned(),
            (_, n) => format!("{n} open"),
        };
        Some(TocEntry { anchor: KEY, title: "Action items", count })
    }

    fn render(&self) -> Result<String> {
        let html = ItemsHtml {
            ctx: &self.ctx,
            items: &self.items,
            today: &self.ctx.today,
            owners: &self.owners,
            choices: Choices,
            item_form: &self.form,
            item_errors: &self.errors,
            item_action: self.ctx.url("action_items"),
            item_version: None,
        };
        Ok(html.render()?)
    }
}

impl Records for ActionItems {
    const KEY: &'static str = KEY;
    const TITLE: &'static str = "Action items";
    const JSON_NAME: &'static str = "action_items";

    type Record = ActionItem;

    async fn list(db: &mut PgConnection, incident_id: uuid::Uuid) -> Result<Vec<ActionItem>> {
        db::list_for_incident(db, incident_id).await
    }

    fn history_text(record: &ActionItem) -> String {
        record.history_text()
    }

    fn gaps(records: &[ActionItem]) -> Vec<Gap> {
        if !records.is_empty() {
            return Vec::new();
        }
        vec![Gap { key: "action_item", anchor: KEY, text: "No action item is planned".into() }]
    }

    /// A table, one row per item, its owner named or given their role.
    fn report(_incident: &Incident, records: &[ActionItem], options: &ExportOptions) -> String {
        let mut out = String::from("## Action items\n\n");
        if records.is_empty() {
            out.push_str("_No action items._\n");
            return out;
        }
        let rows = records.iter().map(|item| {
            vec![
                item.title.clone(),
                item.kind.to_string(),
                item.priority.to_string(),
                options.person(item.owner_name.as_deref(), item.owner_role.as_deref()),
                item.due_on.map(|d| d.to_string()).unwrap_or_default(),
                item.status.to_string(),
                item.tracker_url.clone().unwrap_or_default(),
            ]
        });
        out.push_str(&table(&["Action", "Kind", "Priority", "Owner", "Due", "Status", "Tracker"], rows));
        out
    }

    /// Owners are found again by name; one the report names by role, or
    /// who has no account here, leaves the item without an owner.
    async fn import(
        db: &mut PgConnection,
        incident: Option<&Incident>,
        report: &Report,
        _author: uuid::Uuid,
    ) -> Result<()> {
        let headers = ["Action", "Kind", "Priority", "Owner", "Due", "Status", "Tracker"];
        let rows = report.table("Action items", &headers)?;
        if rows.is_empty() {
            return Ok(());
        }
        let users = crate::auth::db::list_users(&mut *db).await?;
        for (line, cells) in rows {
            let owner = users.iter().find(|user| user.name == cells[3]).map(|user| user.id.to_string());
            let input = ActionItemInput {
                title: cells[0].clone(),
                kind: cells[1].clone(),
                owner_id: owner.unwrap_or_default(),
                due_on: cells[4].clone(),
                priority: cells[2].clone(),
                status: cells[5].clone(),
                tracker_url: cells[6].clone(),
            };
            let fields = input
                .parse(&users)
                .map_err(|errors| ReportError::new(line, format!("an action item: {}", errors.summary())))?;
            if let Some(incident) = incident {
                db::insert_item(&mut *db, incident.id, &fields).await?;
            }
        }
        Ok(())
    }

    async fn view(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<Box<dyn PartView>> {
        Ok(Box::new(ItemsView::load(state, incident, ctx).await?))
    }
}
