//! The open-items page: every action item across incidents, filtered by
//! owner, status, overdue and incident, sorted by due date or incident, a
//! page at a time. The filters live in the URL (a GET form), and a value
//! that does not parse is dropped with a note rather than refused.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    response::Html,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    db::OpenActionItem,
    domain::ActionStatus,
    open_db::{self, Filters, OwnerFilter, Sort, StatusFilter},
};
use crate::{
    auth::{self, db::User},
    error::{Result, render},
    state::AppState,
    web::PageCtx,
};

/// Rows on one page.
const PER_PAGE: i64 = 50;
/// The deepest page one can ask for: far past any real list.
const MAX_PAGE: i64 = 10_000;

/// The page's query as typed: every value a string, unknown keys ignored,
/// the last of repeated keys kept, so no URL is refused.
#[derive(Debug, Default, Clone)]
pub struct OpenItemsQuery {
    pub owner: String,
    pub mine: String,
    pub status: String,
    pub overdue: String,
    pub incident: String,
    pub sort: String,
    pub page: String,
}

impl OpenItemsQuery {
    pub fn from_query(raw: Option<&str>) -> OpenItemsQuery {
        let mut query = OpenItemsQuery::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let slot = match key.as_ref() {
                "owner" => &mut query.owner,
                "mine" => &mut query.mine,
                "status" => &mut query.status,
                "overdue" => &mut query.overdue,
                "incident" => &mut query.incident,
                "sort" => &mut query.sort,
                "page" => &mut query.page,
                _ => continue,
            };
            *slot = value.trim().to_owned();
        }
        query
    }

    /// What the query asks for, and a note for each value that was dropped.
    /// `me` is the reader (for "mine"); owners must be among `users`.
    pub fn parse(&self, me: Uuid, users: &[User]) -> (Asked, Vec<String>) {
        let mut notes = Vec::new();
        let mut flag = |raw: &str, name: &str| match raw.to_ascii_lowercase().as_str() {
            "" | "0" | "off" | "false" | "no" => false,
            "1" | "on" | "true" | "yes" => true,
            _ => {
                notes.push(format!("“{raw}” is not a yes or no for {name}; it was ignored."));
                false
            }
        };
        let mine = flag(&self.mine, "mine");
        let overdue = flag(&self.overdue, "overdue only");
        let owner = match self.owner.as_str() {
            _ if mine => OwnerFilter::Person(me),
            "" => OwnerFilter::Anyone,
            "none" => OwnerFilter::Nobody,
            raw => match raw.parse::<Uuid>().ok().filter(|id| users.iter().any(|user| user.id == *id)) {
                Some(id) => OwnerFilter::Person(id),
                None => {
                    notes.push("That owner is not a known user; items of every owner are shown.".into());
                    OwnerFilter::Anyone
                }
            },
        };
        let status = match self.status.as_str() {
            "" | "unfinished" => StatusFilter::Unfinished,
            "all" => StatusFilter::All,
            raw => match ActionStatus::parse(raw) {
                Ok(status) => StatusFilter::Only(status),
                Err(_) => {
                    notes.push(format!("“{raw}” is not a status; open and in-progress items are shown."));
                    StatusFilter::Unfinished
                }
            },
        };
        let incident = match self.incident.as_str() {
            "" => None,
            raw => match incident_number(raw) {
                Some(number) => Some(number),
                None => {
                    notes.push(format!("“{raw}” is not an incident like INC-12; every incident is shown."));
                    None
                }
            },
        };
        let sort = match self.sort.as_str() {
            "" | "due" => Sort::DueAsc,
            "due_desc" => Sort::DueDesc,
            "incident" => Sort::IncidentDesc,
            "incident_asc" => Sort::IncidentAsc,
            raw => {
                notes.push(format!("“{raw}” is not a way to sort; sorted by due date."));
                Sort::DueAsc
            }
        };
        let page = match self.page.as_str() {
            "" => 1,
            raw => match raw.parse::<i64>() {
                Ok(page) if page >= 1 => page.min(MAX_PAGE),
                _ => {
                    notes.push(format!("“{raw}” is not a page number; the first page is shown."));
                    1
                }
            },
        };
        let filters = Filters { owner, status, overdue, incident };
        (Asked { filters, mine, sort, page }, notes)
    }
}

/// `INC-12`, `inc-12` or `12`.
fn incident_number(raw: &str) -> Option<i32> {
    let digits = match raw.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("INC-") => &raw[4..],
        _ => raw,
    };
    digits.parse::<i32>().ok().filter(|number| *number > 0)
}

/// What the page was asked to show, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub filters: Filters,
    /// The owner is the reader because "mine" was asked for.
    pub mine: bool,
    pub sort: Sort,
    pub page: i64,
}

impl Asked {
    /// The query string that asks for this again, with `sort` and `page`
    /// in place of the current ones.
    fn query(&self, sort: Sort, page: i64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        match self.filters.owner {
            _ if self.mine => {
                query.append_pair("mine", "1");
            }
            OwnerFilter::Anyone => {}
            OwnerFilter::Person(id) => {
                query.append_pair("owner", &id.to_string());
            }
            OwnerFilter::Nobody => {
                query.append_pair("owner", "none");
            }
        }
        match self.filters.status {
            StatusFilter::Unfinished => {}
            StatusFilter::Only(status) => {
                query.append_pair("status", status.as_str());
            }
            StatusFilter::All => {
                query.append_pair("status", "all");
            }
        }
        if self.filters.overdue {
            query.append_pair("overdue", "1");
        }
        if let Some(number) = self.filters.incident {
            query.append_pair("incident", &format!("INC-{number}"));
        }
        if sort != Sort::DueAsc {
            query.append_pair("sort", sort_value(sort));
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        query.finish()
    }
}

fn sort_value(sort: Sort) -> &'static str {
    match sort {
        Sort::DueAsc => "due",
        Sort::DueDesc => "due_desc",
        Sort::IncidentDesc => "incident",
        Sort::IncidentAsc => "incident_asc",
    }
}

/// One option of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choice(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Choice {
    Choice { value: value.into(), label: label.into(), selected }
}

#[derive(Template)]
#[template(path = "action_items/open.html")]
pub struct OpenItemsPage {
    pub ctx: PageCtx,
    pub items: Vec<OpenActionItem>,
    pub today: Date,
    /// Items the filters keep, on every page.
    pub total: i64,
    pub overdue: i64,
    pub asked: Asked,
    pub pages: i64,
    pub notes: Vec<String>,
    pub owners: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub sorts: Vec<Choice>,
}

impl OpenItemsPage {
    /// Anything but the plain list of what is still to be done.
    pub fn is_filtered(&self) -> bool {
        self.asked.filters != Filters::default()
    }

    pub fn is_unfinished(&self) -> bool {
        self.asked.filters.status == StatusFilter::Unfinished
    }

    pub fn incident_value(&self) -> String {
        self.asked.filters.incident.map(|number| format!("INC-{number}")).unwrap_or_default()
    }

    /// `/action-items?...` for page `page` of the same list.
    pub fn page_href(&self, page: i64) -> String {
        href(&self.asked.query(self.asked.sort, page))
    }

    /// The link of the due date's column head: soonest first, or latest
    /// first when already soonest first.
    pub fn due_sort_href(&self) -> String {
        let sort = if self.asked.sort == Sort::DueAsc { Sort::DueDesc } else { Sort::DueAsc };
        href(&self.asked.query(sort, 1))
    }

    pub fn incident_sort_href(&self) -> String {
        let sort = if self.asked.sort == Sort::IncidentDesc { Sort::IncidentAsc } else { Sort::IncidentDesc };
        href(&self.asked.query(sort, 1))
    }

    /// `aria-sort` of the due date's column head.
    pub fn due_aria_sort(&self) -> &'static str {
        match self.asked.sort {
            Sort::DueAsc => "ascending",
            Sort::DueDesc => "descending",
            _ => "none",
        }
    }

    pub fn incident_aria_sort(&self) -> &'static str {
        match self.asked.sort {
            Sort::IncidentAsc => "ascending",
            Sort::IncidentDesc => "descending",
            _ => "none",
        }
    }

    /// The link that shows only the reader's items, or everyone's.
    pub fn mine_toggle_href(&self) -> String {
        let mut asked = self.asked.clone();
        asked.mine = !asked.mine;
        asked.filters.owner = OwnerFilter::Anyone;
        href(&asked.query(asked.sort, 1))
    }
}

fn href(query: &str) -> String {
    if query.is_empty() { "/action-items".to_owned() } else { format!("/action-items?{query}") }
}

fn owner_choices(users: &[User], asked: &Asked) -> Vec<Choice> {
    let owner = asked.filters.owner;
    let mut choices = vec![
        choice("", "Anyone", owner == OwnerFilter::Anyone || asked.mine),
        choice("none", "Nobody yet", owner == OwnerFilter::Nobody),
    ];
    choices.extend(users.iter().map(|user| {
        let label = format!("{} ({})", user.name, user.email);
        choice(user.id.to_string(), label, !asked.mine && owner == OwnerFilter::Person(user.id))
    }));
    choices
}

fn status_choices(asked: &Asked) -> Vec<Choice> {
    let status = asked.filters.status;
    let mut choices = vec![choice("", "Open or in progress", status == StatusFilter::Unfinished)];
    choices.extend(
        ActionStatus::ALL.iter().map(|each| {
            choice(each.as_str(), capitalised(each.label()), status == StatusFilter::Only(*each))
        }),
    );
    choices.push(choice("all", "All", status == StatusFilter::All));
    choices
}

fn capitalised(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn sort_choices(asked: &Asked) -> Vec<Choice> {
    [
        (Sort::DueAsc, "Due date, soonest first"),
        (Sort::DueDesc, "Due date, latest first"),
        (Sort::IncidentDesc, "Incident, newest first"),
        (Sort::IncidentAsc, "Incident, oldest first"),
    ]
    .into_iter()
    .map(|(sort, label)| choice(sort_value(sort), label, asked.sort == sort))
    .collect()
}

/// `GET /action-items`: the items the filters keep, a page at a time,
/// overdue marked (due before today in the reader's zone).
#[tracing::instrument(skip_all)]
pub async fn list_open_items(
    State(state): State<AppState>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>> {
    let users = auth::db::list_users(&state.pool).await?;
    let me = ctx.user.as_ref().map(|user| user.id).unwrap_or_default();
    let (mut asked, notes) = OpenItemsQuery::from_query(raw.as_deref()).parse(me, &users);
    let today = ctx.zone.date_of(&OffsetDateTime::now_utc());
    let (total, overdue) = open_db::count_items(&state.pool, &asked.filters, today).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    asked.page = asked.page.min(pages);
    let offset = (asked.page - 1) * PER_PAGE;
    let items = open_db::list_items(&state.pool, &asked.filters, today, asked.sort, PER_PAGE, offset).await?;
    let page = OpenItemsPage {
        owners: owner_choices(&users, &asked),
        statuses: status_choices(&asked),
        sorts: sort_choices(&asked),
        ctx,
        items,
        today,
        total,
        overdue,
        asked,
        pages,
        notes,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> (Asked, Vec<String>) {
        OpenItemsQuery::from_query(Some(raw)).parse(Uuid::nil(), &[])
    }

    #[test]
    fn an_empty_query_asks_for_what_is_still_to_be_done() {
        let (asked, notes) = parsed("");
        assert_eq!(asked.filters, Filters::default());
        assert_eq!((asked.sort, asked.page, asked.mine), (Sort::DueAsc, 1, false));
        assert!(notes.is_empty());
    }

    #[test]
    fn incidents_are_named_with_or_without_their_prefix() {
        for raw in ["INC-12", "inc-12", "12", " 12 "] {
            assert_eq!(parsed(&format!("incident={raw}")).0.filters.incident, Some(12), "{raw}");
        }
    }

    #[test]
    fn mine_is_the_reader_whatever_the_owner_says() {
        let (asked, notes) = parsed("owner=none&mine=1");
        assert_eq!((asked.filters.owner, asked.mine), (OwnerFilter::Person(Uuid::nil()), true));
        assert!(notes.is_empty());
    }

    #[test]
    fn every_bad_value_is_dropped_with_a_note() {
        let cases = [
            "owner=somebody",
            "owner=6f1c2a52-0000-4000-8000-000000000000",
            "mine=perhaps",
            "status=maybe",
            "overdue=2",
            "incident=INC-x",
            "incident=-3",
            "sort=title",
            "page=0",
            "page=many",
        ];
        for raw in cases {
            let (asked, notes) = parsed(raw);
            assert_eq!(notes.len(), 1, "{raw}: {notes:?}");
            assert_eq!(asked, parsed("").0, "{raw}");
        }
    }

    #[test]
    fn the_last_of_repeated_keys_wins_and_unknown_keys_are_ignored() {
        let (asked, notes) = parsed("status=done&status=all&colour=red");
        assert_eq!(asked.filters.status, StatusFilter::All);
        assert!(notes.is_empty());
    }

    #[test]
    fn a_query_asks_again_for_what_it_parsed_to() {
        let (asked, _) = parsed("mine=1&status=in_progress&overdue=on&incident=7&sort=incident_asc&page=3");
        let again =
            OpenItemsQuery::from_query(Some(&asked.query(asked.sort, asked.page))).parse(Uuid::nil(), &[]);
        assert_eq!(again.0, asked);
    }
}
