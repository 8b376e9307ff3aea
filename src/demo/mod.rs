//! `debrief demo`: a populated app for newcomers and a full one for
//! benchmarks. [`load`] writes the twelve hand-written postmortems of
//! `postmortems.json` into an empty database; [`generate`] adds any number
//! of machine-made incidents, fast, to measure the app at scale.

pub mod evidence;
pub mod generate;
pub mod load;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    auth::{
        self,
        domain::{DisplayName, Email, NewPassword, Role},
    },
    error::Result,
    web::secret::random_secret,
};

/// The environment variable that sets the demo users' password.
pub const PASSWORD_VAR: &str = "DEBRIEF_DEMO_PASSWORD";

/// The one password of every demo user.
pub struct DemoPassword {
    pub password: NewPassword,
    /// Made up here rather than chosen, so it must be shown once.
    pub generated: bool,
}

impl DemoPassword {
    /// The password in `DEBRIEF_DEMO_PASSWORD`, or a random one when it is
    /// unset or empty.
    pub fn from_env() -> Result<DemoPassword, String> {
        match std::env::var(PASSWORD_VAR) {
            Ok(value) => DemoPassword::from_value(Some(&value)),
            Err(std::env::VarError::NotPresent) => DemoPassword::from_value(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("{PASSWORD_VAR} is not valid UTF-8")),
        }
    }

    /// The password chosen as `value`, or a random one without a choice.
    pub fn from_value(value: Option<&str>) -> Result<DemoPassword, String> {
        match value.filter(|value| !value.is_empty()) {
            Some(chosen) => {
                let password =
                    NewPassword::parse(chosen, None).map_err(|e| format!("{PASSWORD_VAR}: {e}"))?;
                Ok(DemoPassword { password, generated: false })
            }
            None => Ok(DemoPassword { password: random_password(), generated: true }),
        }
    }
}

/// A password nobody has to type twice: 24 URL-safe characters.
fn random_password() -> NewPassword {
    NewPassword::parse(&random_secret(18), None)
        .unwrap_or_else(|_| unreachable!("24 random characters are a valid password"))
}

/// A user the demo needs, by email.
#[derive(Debug, Clone, Copy)]
pub struct Persona {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
}

/// Finds the persona's user or creates it with `password`; tells which.
async fn ensure_user(
    conn: &mut PgConnection,
    persona: &Persona,
    password: &NewPassword,
) -> Result<(Uuid, bool)> {
    if let Some((user, _)) = auth::db::find_user_with_hash(&mut *conn, persona.email).await? {
        return Ok((user.id, false));
    }
    let email = Email::parse(persona.email).map_err(anyhow::Error::msg)?;
    let name = DisplayName::parse(persona.name).map_err(anyhow::Error::msg)?;
    let user = auth::create_user(
        &mut *conn,
        &auth::credentials::Hashing::for_tools(),
        &email,
        &name,
        password,
        persona.role,
    )
    .await?;
    Ok((user.id, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_password_is_used_as_given() {
        let chosen = DemoPassword::from_value(Some("demo password 2026")).unwrap();

        assert!(!chosen.generated);
        assert_eq!(chosen.password.expose(), "demo password 2026");
    }

    #[test]
    fn without_a_choice_each_run_makes_a_new_random_password() {
        let first = DemoPassword::from_value(None).unwrap();
        let second = DemoPassword::from_value(Some("")).unwrap();

        assert!(first.generated && second.generated);
        assert_eq!(first.password.expose().len(), 24);
        assert_ne!(first.password.expose(), second.password.expose());
    }

    #[test]
    fn a_short_chosen_password_is_refused_by_name() {
        let err = DemoPassword::from_value(Some("short")).err().unwrap();

        assert_eq!(err, "DEBRIEF_DEMO_PASSWORD: Use at least 12 characters.");
    }
}
