//! The starter library: playbooks Debrief ships, written from the failure
//! modes Go services meet most (HTTP clients without timeouts, deadlines
//! not passed on, panics, leaks, races, broken middleware chains, servers
//! without timeouts) and how to capture evidence while an incident lasts.
//! Each is a Markdown file under `library/` with a small front matter;
//! every one this Debrief does not have yet is added at start.

use serde_json::Value;
use sqlx::PgPool;

use super::{
    db,
    domain::{PlaybookFields, is_slug, steps},
};
use crate::error::{AppError, Result};

/// The starter playbooks, as shipped.
pub const FILES: [(&str, &str); 10] = [
    ("http-client-hardening", include_str!("library/http-client-hardening.md")),
    ("context-deadlines", include_str!("library/context-deadlines.md")),
    ("panic-recovery", include_str!("library/panic-recovery.md")),
    ("goroutine-leak-hunt", include_str!("library/goroutine-leak-hunt.md")),
    ("middleware-shared-state", include_str!("library/middleware-shared-state.md")),
    ("middleware-chain-integrity", include_str!("library/middleware-chain-integrity.md")),
    ("server-timeouts", include_str!("library/server-timeouts.md")),
    ("capturing-evidence", include_str!("library/capturing-evidence.md")),
    ("lock-contention", include_str!("library/lock-contention.md")),
    ("new-go-service-launch", include_str!("library/new-go-service-launch.md")),
];

/// One starter playbook, read.
#[derive(Debug, Clone)]
pub struct Starter {
    pub slug: String,
    pub fields: PlaybookFields,
}

/// Reads a starter file: its front matter (`slug`, `title`, `categories`,
/// `suspects`, `standing`, each a JSON value) and its body.
pub fn read(text: &str) -> std::result::Result<Starter, String> {
    let rest = text.strip_prefix("---\n").ok_or("no front matter")?;
    let (front, body) = rest.split_once("\n---\n").ok_or("the front matter is not closed")?;
    let mut values = serde_json::Map::new();
    for line in front.lines().filter(|line| !line.trim().is_empty()) {
        let (key, raw) = line.split_once(':').ok_or_else(|| format!("`{line}` is not `key: value`"))?;
        let value: Value = serde_json::from_str(raw.trim()).map_err(|err| format!("`{key}`: {err}"))?;
        values.insert(key.trim().to_owned(), value);
    }
    let text_of = |key: &str| values.get(key).and_then(Value::as_str).map(str::to_owned);
    let list_of = |key: &str| -> Vec<String> {
        values
            .get(key)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let slug = text_of("slug").filter(|slug| is_slug(slug)).ok_or("no slug")?;
    let title = text_of("title").ok_or("no title")?;
    let body = body.trim_start_matches('\n').to_owned();
    let steps = steps(&body)?;
    let fields = PlaybookFields {
        title,
        steps,
        body,
        categories: list_of("categories"),
        suspect_keys: list_of("suspects"),
        owner_id: None,
        standing: values.get("standing").and_then(Value::as_bool).unwrap_or(false),
    };
    Ok(Starter { slug, fields })
}

/// Adds every starter playbook this Debrief does not have yet (one retired
/// or edited since stays as it is); returns how many were added.
pub async fn load(pool: &PgPool) -> Result<usize> {
    let mut added = 0;
    for (name, text) in FILES {
        let starter =
            read(text).map_err(|err| anyhow::anyhow!("the starter playbook {name} cannot be read: {err}"))?;
        let mut tx = pool.begin().await?;
        // One loader at a time: two processes starting together add each once.
        sqlx::query("select pg_advisory_xact_lock(hashtext('debrief.playbook.library'))")
            .execute(&mut *tx)
            .await?;
        if db::find(&mut *tx, &starter.slug).await?.is_none() {
            let playbook = db::insert(&mut tx, &starter.slug, &starter.fields, None).await?;
            if playbook.slug != starter.slug {
                return Err(AppError::from(anyhow::anyhow!("the starter playbook {name} took another slug")));
            }
            added += 1;
        }
        tx.commit().await?;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::SUSPECT_KEYS;

    #[test]
    fn every_starter_reads_with_its_steps_and_known_links() {
        let taxonomy = [
            "goroutine leak",
            "missing timeout",
            "context not propagated",
            "unrecovered panic",
            "data race",
            "middleware chain broken",
            "resource exhaustion",
            "config change",
            "dependency failure",
            "capacity",
        ];
        for (name, text) in FILES {
            let starter = read(text).unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(starter.slug, name);
            assert!(starter.fields.steps.len() >= 6, "{name} has its steps");
            assert!(starter.fields.categories.iter().all(|c| taxonomy.contains(&c.as_str())), "{name}");
            assert!(starter.fields.suspect_keys.iter().all(|k| SUSPECT_KEYS.contains(&k.as_str())), "{name}");
            assert!(crate::web::markdown::accept(&starter.fields.body, "body").is_ok(), "{name}");
        }
        let standing = FILES.iter().filter(|(_, text)| read(text).unwrap().fields.standing).count();
        assert_eq!(standing, 1, "one standing checklist ships");
    }

    #[test]
    fn a_broken_file_says_what_is_wrong() {
        assert!(read("no front matter").is_err());
        assert!(read("---\nslug: \"Bad Slug\"\ntitle: \"x\"\n---\n").unwrap_err().contains("slug"));
        assert!(read("---\nslug: \"ok\"\ntitle: x\n---\n").unwrap_err().contains("title"));
    }
}
