//! Account values parsed from user input: once built, they are valid.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// What a user may do. Ordered: each role can do all the one before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Result<Role, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            _ => Err("Choose viewer, editor or admin.".into()),
        }
    }

    pub fn at_least(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A normalised (trimmed, lower-case) email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, String> {
        let email = raw.trim().to_lowercase();
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err("Enter an email address like name@example.com.".into());
        };
        let well_formed = !local.is_empty()
            && domain.len() >= 3
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','));
        if !well_formed {
            return Err("Enter an email address like name@example.com.".into());
        }
        if email.len() > 254 {
            return Err("An email address has at most 254 characters.".into());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as shown in the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("Enter a name.".into());
        }
        if name.chars().count() > 100 {
            return Err("A name has at most 100 characters.".into());
        }
        if name.chars().any(char::is_control) {
            return Err("A name cannot contain control characters.".into());
        }
        Ok(DisplayName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password someone chose, long enough to be worth hashing.
pub struct NewPassword(SecretString);

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(raw: &str, confirmation: Option<&str>) -> Result<NewPassword, String> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(format!("Use at least {} characters.", Self::MIN_CHARS));
        }
        if chars > Self::MAX_CHARS {
            return Err(format!("Use at most {} characters.", Self::MAX_CHARS));
        }
        if raw.trim().is_empty() {
            return Err("A password cannot be only spaces.".into());
        }
        if confirmation.is_some_and(|c| c != raw) {
            return Err("The two passwords differ.".into());
        }
        Ok(NewPassword(SecretString::from(raw.to_owned())))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The name given to an API token, to tell tokens apart.
pub struct TokenName(String);

impl TokenName {
    pub fn parse(raw: &str) -> Result<TokenName, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("Give the token a name, such as \"alert hook\".".into());
        }
        if name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err("A token name has at most 80 printable characters.".into());
        }
        Ok(TokenName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(Email::parse("  Ana.Ops@Example.COM ").unwrap().as_str(), "ana.ops@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in
            ["", "ana", "@example.com", "ana@", "ana@localhost", "a b@example.com", "ana@.com", "<a>@x.io"]
        {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Admin.at_least(Role::Editor));
        assert!(Role::Editor.at_least(Role::Editor));
        assert!(!Role::Viewer.at_least(Role::Editor));
        assert_eq!(Role::parse(" Editor ").unwrap(), Role::Editor);
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn passwords_must_be_long_and_confirmed() {
        assert!(NewPassword::parse("short", None).is_err());
        assert!(NewPassword::parse("            ", None).is_err());
        assert!(NewPassword::parse("correct horse battery", Some("correct horse battery!")).is_err());
        assert!(NewPassword::parse("correct horse battery", Some("correct horse battery")).is_ok());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ana Ops ").unwrap().as_str(), "Ana Ops");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("bell\u{7}").is_err());
    }
}
