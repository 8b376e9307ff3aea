//! The webhook pages: the list with its "add" form, and one webhook's
//! settings with its delivery log.

use askama::Template;

use super::{
    Kind,
    webhooks::{AttemptRow, DeliveryRow, WebhookRow},
};
use crate::web::{FormErrors, PageCtx};

/// `/admin/webhooks`
#[derive(Template)]
#[template(path = "notify/webhooks.html")]
pub struct WebhooksPage {
    pub ctx: PageCtx,
    pub webhooks: Vec<WebhookRow>,
    pub form: WebhookInput,
    pub errors: FormErrors,
}

/// `/admin/webhooks/{id}`
#[derive(Template)]
#[template(path = "notify/webhook.html")]
pub struct WebhookPage {
    pub ctx: PageCtx,
    pub webhook: WebhookRow,
    pub form: WebhookInput,
    pub errors: FormErrors,
    pub deliveries: Vec<DeliveryLog>,
}

/// A delivery and each of its attempts, oldest first.
pub struct DeliveryLog {
    pub delivery: DeliveryRow,
    pub attempts: Vec<AttemptRow>,
}

/// What was typed in a webhook's form, kept when it is re-rendered. Never
/// the secret: it is typed again rather than echoed into the page.
#[derive(Debug, Clone)]
pub struct WebhookInput {
    pub url: String,
    pub events: Vec<String>,
    pub format: String,
    pub active: bool,
}

impl Default for WebhookInput {
    /// A new webhook: every event, our own JSON.
    fn default() -> Self {
        WebhookInput {
            url: String::new(),
            events: Kind::ALL.iter().map(|kind| kind.as_str().to_owned()).collect(),
            format: "json".into(),
            active: true,
        }
    }
}

impl From<&WebhookRow> for WebhookInput {
    fn from(webhook: &WebhookRow) -> Self {
        WebhookInput {
            url: webhook.url.clone(),
            events: webhook.events.clone(),
            format: webhook.format.clone(),
            active: webhook.active,
        }
    }
}

impl WebhookInput {
    /// The events offered, in the order of [`Kind::ALL`].
    pub fn kinds(&self) -> [Kind; 8] {
        Kind::ALL
    }

    pub fn wants(&self, kind: &Kind) -> bool {
        self.events.iter().any(|event| event == kind.as_str())
    }
}

/// How an event's name reads on the page.
pub fn event_label(event: &str) -> &'static str {
    match event {
        "test" => "Test",
        other => Kind::parse(other).map(Kind::label).unwrap_or("Other"),
    }
}

impl WebhooksPage {
    pub fn label(&self, event: &str) -> &'static str {
        event_label(event)
    }
}

impl WebhookPage {
    pub fn label(&self, event: &str) -> &'static str {
        event_label(event)
    }
}
