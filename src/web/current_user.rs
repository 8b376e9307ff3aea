//! Who is signed in, as the request carries it (put there by the sign-in
//! check of [`crate::auth::signed_in`]), the copies of recently read users,
//! and the role guard that whole routers are wrapped in.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use uuid::Uuid;

use super::recent::Recent;
use crate::{
    auth::{db::User, domain::Role},
    error::AppError,
};

/// The signed-in user, in the request extensions of signed-in requests.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

/// Users as read in the last second, so that a burst of requests from one
/// browser costs one read of the user row rather than one each.
///
/// Whatever changes a user in this process forgets the copy once the change
/// is committed, so it takes effect on the next request; a change made by
/// another process takes effect within [`RecentUsers::FRESH_FOR`].
#[derive(Debug)]
pub struct RecentUsers(Recent<Uuid, User>);

impl Default for RecentUsers {
    fn default() -> RecentUsers {
        RecentUsers(Recent::new(RecentUsers::FRESH_FOR, 10_000))
    }
}

impl RecentUsers {
    pub const FRESH_FOR: Duration = Duration::from_secs(1);

    pub fn get(&self, id: Uuid) -> Option<User> {
        self.0.get(&id)
    }

    pub fn keep(&self, user: &User) {
        self.0.keep(user.id, user.clone());
    }

    /// Call after committing a change to the user.
    pub fn forget(&self, id: Uuid) {
        self.0.forget(&id);
    }
}

/// Middleware for a router whose pages need at least `required`: anonymous
/// visitors are sent to sign in, signed-in users without the role get 403.
pub async fn require_role(State(required): State<Role>, request: Request, next: Next) -> Response {
    let role = request.extensions().get::<CurrentUser>().map(|user| user.0.role);
    match role {
        Some(role) if role.at_least(required) => next.run(request).await,
        Some(_) => AppError::Forbidden(format!(
            "This needs the {required} role. Ask an administrator if you should have it."
        ))
        .into_response(),
        None => {
            let target = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            let next = if request.method() == axum::http::Method::GET { target } else { "/" };
            let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
            Redirect::to(&format!("/login?{query}")).into_response()
        }
    }
}

/// Where to go after signing in: only a path on this site, never elsewhere.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
    if local && !next.chars().any(char::is_control) { next } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_never_leaves_the_site() {
        assert_eq!(safe_next("/account"), "/account");
        assert_eq!(safe_next("/incidents?page=2"), "/incidents?page=2");
        for outside in ["https://evil.example", "//evil.example", "/\\evil.example", "evil", "", "/a\nb"] {
            assert_eq!(safe_next(outside), "/", "{outside:?}");
        }
    }
}
