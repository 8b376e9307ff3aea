//! The users page.

use askama::Template;

use crate::{
    auth::{db::User, domain::Role},
    web::{FormErrors, PageCtx},
};

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub ctx: PageCtx,
    pub users: Vec<User>,
    pub roles: [Role; 3],
    pub form: NewUserInput,
    pub errors: FormErrors,
}

/// What was typed in the "add a user" form, kept when it is re-rendered.
#[derive(Debug, Default, Clone)]
pub struct NewUserInput {
    pub email: String,
    pub name: String,
    pub role: String,
}
