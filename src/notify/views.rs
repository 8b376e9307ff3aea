//! The notifications page.

use askama::Template;

use super::db::Notification;
use crate::web::PageCtx;

#[derive(Template)]
#[template(path = "notify/list.html")]
pub struct NotificationsPage {
    pub ctx: PageCtx,
    pub notifications: Vec<Notification>,
    pub unread: i64,
    pub page: i64,
    pub next: Option<i64>,
}

impl NotificationsPage {
    pub fn label(&self, kind: &str) -> &'static str {
        super::Kind::parse(kind).map(super::Kind::label).unwrap_or("Note")
    }
}
