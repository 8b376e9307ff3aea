//! The account page.

use askama::Template;

use crate::{
    auth::db::ApiToken,
    web::{FormErrors, PageCtx},
};

#[derive(Template)]
#[template(path = "account/account.html")]
pub struct AccountPage {
    pub ctx: PageCtx,
    pub tokens: Vec<ApiToken>,
    /// A token just made, shown this once.
    pub new_token: Option<String>,
    pub token_name: String,
    pub errors: FormErrors,
    pub zones: Vec<String>,
}

/// `2026-11-22 14:02 UTC`
pub fn format_time(at: &time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}
