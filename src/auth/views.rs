//! Pages of signing in and first-run setup.

use askama::Template;

use crate::web::{FormErrors, PageCtx};

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/setup.html")]
pub struct SetupPage {
    pub ctx: PageCtx,
    pub email: String,
    pub name: String,
    pub errors: FormErrors,
}
