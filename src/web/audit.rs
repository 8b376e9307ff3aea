//! The audit trail's way in: who did what, from where, to what. A feature
//! that changes something security- or data-relevant records an
//! [`AuditEvent`] here, in the transaction of the change where there is
//! one, so an event is written exactly once and never for a change that
//! rolled back. Showing the trail is the `audit` feature's; the table only
//! takes inserts from the app (see the migration's trigger).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{Extensions, HeaderMap, request::Parts},
};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::current_user::CurrentUser;
use crate::{
    auth::db::User,
    error::{AppError, Result},
    state::AppState,
};

/// What happened: the trail's vocabulary, stored by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Signin,
    SigninFailed,
    SigninThrottled,
    Signout,
    PasswordChanged,
    UserCreated,
    RoleChanged,
    UserDisabled,
    UserEnabled,
    TokenCreated,
    TokenRevoked,
    TokenFirstUse,
    IncidentDeleted,
    ExportReport,
    ExportZip,
    Import,
    WebhookCreated,
    WebhookChanged,
    WebhookDeleted,
}

impl Action {
    /// Every action, in the order the filter lists them.
    pub const ALL: [Action; 19] = [
        Action::Signin,
        Action::SigninFailed,
        Action::SigninThrottled,
        Action::Signout,
        Action::PasswordChanged,
        Action::UserCreated,
        Action::RoleChanged,
        Action::UserDisabled,
        Action::UserEnabled,
        Action::TokenCreated,
        Action::TokenRevoked,
        Action::TokenFirstUse,
        Action::IncidentDeleted,
        Action::ExportReport,
        Action::ExportZip,
        Action::Import,
        Action::WebhookCreated,
        Action::WebhookChanged,
        Action::WebhookDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Signin => "signin",
            Action::SigninFailed => "signin.failed",
            Action::SigninThrottled => "signin.throttled",
            Action::Signout => "signout",
            Action::PasswordChanged => "password.changed",
            Action::UserCreated => "user.created",
            Action::RoleChanged => "role.changed",
            Action::UserDisabled => "user.disabled",
            Action::UserEnabled => "user.enabled",
            Action::TokenCreated => "token.created",
            Action::TokenRevoked => "token.revoked",
            Action::TokenFirstUse => "token.first_use",
            Action::IncidentDeleted => "incident.deleted",
            Action::ExportReport => "export.report",
            Action::ExportZip => "export.zip",
            Action::Import => "import",
            Action::WebhookCreated => "webhook.created",
            Action::WebhookChanged => "webhook.changed",
            Action::WebhookDeleted => "webhook.deleted",
        }
    }

    /// The action with this stored name.
    pub fn parse(raw: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.as_str() == raw.trim())
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acted, and from which address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    id: Option<Uuid>,
    name: String,
    address: Option<String>,
}

impl Actor {
    /// A user, signed in or presenting a token, acting from `address`.
    pub fn user(user: &User, address: Option<IpAddr>) -> Actor {
        Actor { id: Some(user.id), name: person(user), address: address.map(|ip| ip.to_string()) }
    }

    /// Someone not signed in who claimed to be `email` (a refused
    /// sign-in): the email typed is kept, as typed, never the password.
    pub fn claimed(email: &str, address: IpAddr) -> Actor {
        let email: String = email.trim().chars().take(254).collect();
        Actor { id: None, name: email, address: Some(address.to_string()) }
    }

    /// The command line, run by whoever operates the server.
    pub fn cli() -> Actor {
        Actor { id: None, name: "cli".into(), address: None }
    }

    pub fn id(&self) -> Option<Uuid> {
        self.id
    }
}

/// A user as the trail names them, actor or target: `Name <email>`, so a
/// search for either finds them, and the record still says who after the
/// account changes.
pub fn person(user: &User) -> String {
    format!("{} <{}>", user.name, user.email)
}

/// The request's user (from the session or the API token) and address.
/// Only for routes behind a role guard: there is always a user there.
impl FromRequestParts<AppState> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Actor, AppError> {
        let user = parts
            .extensions
            .get::<CurrentUser>()
            .ok_or_else(|| anyhow::anyhow!("Actor used on a route without a signed-in user"))?;
        let address = request_address(&parts.extensions, &parts.headers, state);
        Ok(Actor::user(&user.0, address))
    }
}

/// The client's address as the sign-in throttle sees it (behind the
/// trusted proxies). `None` without a peer (a router called directly): the
/// event is still recorded, without it.
pub fn request_address(extensions: &Extensions, headers: &HeaderMap, state: &AppState) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?;
    Some(state.config.trusted_proxies.client_ip(peer.ip(), headers))
}

/// One event of the trail, about to be recorded.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    action: Action,
    actor: &'a Actor,
    target: Option<String>,
    detail: Value,
}

impl<'a> AuditEvent<'a> {
    pub fn new(actor: &'a Actor, action: Action) -> AuditEvent<'a> {
        AuditEvent { action, actor, target: None, detail: Value::Object(Default::default()) }
    }

    /// What the action was done to: a user, a token, an incident reference.
    pub fn target(mut self, target: impl Into<String>) -> AuditEvent<'a> {
        self.target = Some(target.into());
        self
    }

    /// The particulars, as a JSON object; never a secret.
    pub fn detail(mut self, detail: Value) -> AuditEvent<'a> {
        self.detail = detail;
        self
    }
}

/// Writes the event. Pass the transaction of the change it records, where
/// there is one.
#[tracing::instrument(skip_all, fields(action = %event.action))]
pub async fn record(db: impl PgExecutor<'_>, event: &AuditEvent<'_>) -> Result<()> {
    sqlx::query(
        "insert into audit_event (action, actor_id, actor, address, target, detail) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.action.as_str())
    .bind(event.actor.id)
    .bind(&event.actor.name)
    .bind(event.actor.address.as_deref())
    .bind(event.target.as_deref())
    .bind(&event.detail)
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_name_and_names_are_unique() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        let mut names: Vec<&str> = Action::ALL.iter().map(|action| action.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        assert_eq!(Action::parse("signin.hacked"), None);
    }

    #[test]
    fn a_claimed_actor_keeps_the_email_typed_and_the_address_but_no_id() {
        let actor = Actor::claimed("  Someone@Example.com ", "203.0.113.7".parse().unwrap());
        assert_eq!(actor.id(), None);
        assert_eq!(actor.name, "Someone@Example.com");
        assert_eq!(actor.address.as_deref(), Some("203.0.113.7"));
        let long = "a".repeat(1000);
        assert_eq!(Actor::claimed(&long, "::1".parse().unwrap()).name.chars().count(), 254);
    }
}
