//! The audit trail's filters and paging, read from a query string: the
//! page's form, the download link and the API all take the same ones.

use serde::Deserialize;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, macros::format_description};

use crate::web::{audit::Action, clock::Zone};

/// Events on a page unless asked otherwise, and at most.
pub const PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 200;
/// The last page that may be asked for: deeper is what the filters are for.
pub const MAX_PAGE: i64 = 10_000;
/// The longest text filter taken, in characters.
const MAX_FILTER_CHARS: usize = 200;

/// The query string as sent; every field optional, an empty one unset (a
/// form's empty select sends `action=`).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub address: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    #[param(value_type = Option<i64>)]
    pub page: Option<String>,
    #[param(value_type = Option<i64>)]
    pub per_page: Option<String>,
}

/// Which events to show: each filter set narrows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub action: Option<Action>,
    /// A piece of the actor's name or email, any case.
    pub actor: Option<String>,
    /// The start of the address (`203.0.113.` finds the whole range).
    pub address: Option<String>,
    /// From this moment on.
    pub from: Option<OffsetDateTime>,
    /// Before this moment (the start of the day after `to`).
    pub before: Option<OffsetDateTime>,
}

/// Which page of the events, and how many on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

impl AuditQuery {
    /// The filters, with the days `from` and `to` read in `zone`.
    pub fn filter(&self, zone: &Zone) -> Result<AuditFilter, String> {
        let action = match set(&self.action) {
            None => None,
            Some(raw) => {
                Some(Action::parse(raw).ok_or_else(|| format!("“{}” is not an action.", shorten(raw)))?)
            }
        };
        let from = day(&self.from, "from")?;
        let to = day(&self.to, "to")?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err("The “to” day is before the “from” day.".into());
        }
        Ok(AuditFilter {
            action,
            actor: text(&self.actor, "actor")?,
            address: text(&self.address, "address")?,
            from: from.and_then(|day| zone.to_utc(PrimitiveDateTime::new(day, Time::MIDNIGHT))),
            before: to.and_then(|day| zone.to_utc(PrimitiveDateTime::new(day.next_day()?, Time::MIDNIGHT))),
        })
    }

    /// The page (from 1) and its size, both bounded.
    pub fn paging(&self) -> Result<Paging, String> {
        Ok(Paging {
            page: number(&self.page, "page", 1, MAX_PAGE)?,
            per_page: number(&self.per_page, "per_page", PER_PAGE, MAX_PER_PAGE)?,
        })
    }

    /// The filters that are set, as a query string: for the download link
    /// and the pager, which keep them.
    pub fn filter_query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let fields = [
            ("action", &self.action),
            ("actor", &self.actor),
            ("address", &self.address),
            ("from", &self.from),
        ];
        for (name, value) in fields.into_iter().chain([("to", &self.to)]) {
            if let Some(value) = set(value) {
                query.append_pair(name, value);
            }
        }
        query.finish()
    }

    /// What the form shows in the field `name`.
    pub fn value(&self, name: &str) -> &str {
        let field = match name {
            "action" => &self.action,
            "actor" => &self.actor,
            "address" => &self.address,
            "from" => &self.from,
            "to" => &self.to,
            _ => &None,
        };
        set(field).unwrap_or_default()
    }
}

/// A field's value, trimmed; `None` when empty.
fn set(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|value| !value.is_empty())
}

fn text(raw: &Option<String>, name: &str) -> Result<Option<String>, String> {
    match set(raw) {
        Some(value) if value.chars().count() > MAX_FILTER_CHARS => {
            Err(format!("{name} has at most {MAX_FILTER_CHARS} characters."))
        }
        value => Ok(value.map(str::to_owned)),
    }
}

fn day(raw: &Option<String>, name: &str) -> Result<Option<Date>, String> {
    let Some(value) = set(raw) else { return Ok(None) };
    Date::parse(value, format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| format!("{name} is a day like 2026-11-20."))
}

fn number(raw: &Option<String>, name: &str, default: i64, max: i64) -> Result<i64, String> {
    match set(raw) {
        None => Ok(default),
        Some(value) => match value.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("{name} is a number from 1 to {max}.")),
        },
    }
}

fn shorten(raw: &str) -> String {
    crate::web::path::shorten(raw)
}

/// `text` for a `LIKE` pattern, matched as written: its `%`, `_` and `\`
/// are no wildcards.
pub fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn query(pairs: &[(&str, &str)]) -> AuditQuery {
        serde_urlencoded::from_str(&serde_urlencoded::to_string(pairs).unwrap()).unwrap()
    }

    #[test]
    fn empty_fields_filter_nothing() {
        let filter = query(&[("action", ""), ("actor", "  "), ("from", "")]).filter(&Zone::utc()).unwrap();
        assert_eq!(filter, AuditFilter::default());
        assert_eq!(query(&[]).paging().unwrap(), Paging { page: 1, per_page: PER_PAGE });
    }

    #[test]
    fn days_are_read_in_the_readers_zone_and_to_takes_its_whole_day() {
        let zone = Zone::parse("Europe/Paris").unwrap();
        let filter = query(&[("from", "2026-11-20"), ("to", "2026-11-21")]).filter(&zone).unwrap();
        assert_eq!(filter.from, Some(datetime!(2026-11-19 23:00 UTC)));
        assert_eq!(filter.before, Some(datetime!(2026-11-21 23:00 UTC)));
    }

    #[test]
    fn bad_filters_and_pages_are_explained() {
        let cases: [&[(&str, &str)]; 6] = [
            &[("action", "signin.hacked")],
            &[("from", "20/11/2026")],
            &[("from", "2026-11-21"), ("to", "2026-11-20")],
            &[("actor", &"x".repeat(201))],
            &[("page", "0")],
            &[("per_page", "201")],
        ];
        for pairs in cases {
            let query = query(pairs);
            assert!(query.filter(&Zone::utc()).and(query.paging()).is_err(), "{pairs:?}");
        }
    }

    #[test]
    fn the_filter_query_keeps_the_filters_set_and_drops_the_page() {
        let query = query(&[("action", "signin"), ("actor", "ana b"), ("page", "3"), ("address", "")]);
        assert_eq!(query.filter_query(), "action=signin&actor=ana+b");
    }

    #[test]
    fn like_wildcards_in_a_filter_are_taken_literally() {
        assert_eq!(like_escaped(r"50%_off\"), r"50\%\_off\\");
    }
}
