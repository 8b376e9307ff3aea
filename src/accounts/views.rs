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
