//! Insights: every figure against a small data set whose figures were
//! computed by hand, the filters narrowing them, and the lists behind the
//! charts showing exactly what each bar or point counts.
//!
//! The data set, all times UTC (the test users read in UTC), asked for
//! from 2025-01-01 to 2025-03-31:
//!
//! | inc   | sev  | started          | service  | detect/mitigate/resolve (min) | causes                     | suspects               |
//! |-------|------|------------------|----------|-------------------------------|----------------------------|------------------------|
//! | INC-1 | SEV1 | 2025-01-05 10:00 | checkout | 10 / 30 / 60                  | missing timeout            |                        |
//! | INC-2 | SEV2 | 2025-01-12 08:00 | checkout | 20 / 50 / 120                 | missing timeout, capacity  |                        |
//! | INC-3 | SEV2 | 2025-01-20 12:00 | payments | 40 / 80 / –                   | goroutine leak             | http-client-persistconn|
//! | INC-4 | SEV3 | 2025-01-28 09:00 | payments | 100 / – / –                   | goroutine leak             | chan-send-no-receiver  |
//! | INC-5 | SEV1 | 2025-03-03 10:00 | checkout | 5 / 15 / 45                   | missing timeout            |                        |
//! | INC-6 | SEV4 | 2025-03-15 10:00 | search   | 15 / – / –                    | capacity                   | http-client-persistconn|
//! | INC-7 | SEV2 | 2024-12-20 10:00 | checkout | – (outside the range)         | missing timeout            |                        |
//!
//! Action items (created, done): i1 prevent on INC-1, editor, done
//! (01-06, 01-16: 10 d); i2 detect on INC-2, editor, done (01-13, 02-02:
//! 20 d); i3 prevent on INC-3, admin, done (01-21, 02-01 12:00: 11.5 d);
//! i4 prevent on INC-7, admin, done (2024-12-21, 02-10 12:00: 51.5 d); i5
//! process on INC-4, editor, open, due 2025-02-01 (overdue); i6 prevent on
//! INC-5, admin, in progress, due 2099-01-01; i7 detect on INC-6, nobody,
//! open, due 2025-03-20 (overdue); i8 mitigate on INC-5, editor, won't do.
//! Playbooks: "Timeouts first" on INC-1 and INC-5, "Leak hunt" on INC-3.
//!
//! Medians and p90s are `percentile_cont`: over sorted v0..v(n-1), the
//! value at position p·(n-1), interpolated between its two neighbours.

use std::collections::BTreeSet;

use debrief::auth::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Client, TestApp, TestUser, api_error};

const RANGE: &str = "from=2025-01-01&to=2025-03-31";
const MIN: f64 = 60.0;
const DAY: f64 = 86_400.0;

struct Team {
    app: TestApp,
    token: String,
    editor: TestUser,
    admin: TestUser,
    viewer: Client,
}

/// An action item to add: done (created and done when said), or not.
struct Item<'a> {
    title: &'a str,
    kind: &'a str,
    owner: Option<Uuid>,
    status: &'a str,
    due: Option<&'a str>,
    dates: Option<(&'a str, &'a str)>,
}

impl<'a> Item<'a> {
    fn done(title: &'a str, kind: &'a str, owner: Option<Uuid>, created: &'a str, done: &'a str) -> Item<'a> {
        Item { title, kind, owner, status: "done", due: None, dates: Some((created, done)) }
    }

    fn pending(
        title: &'a str,
        kind: &'a str,
        owner: Option<Uuid>,
        status: &'a str,
        due: Option<&'a str>,
    ) -> Item<'a> {
        Item { title, kind, owner, status, due, dates: None }
    }
}

impl Team {
    async fn new() -> Team {
        let app = TestApp::spawn().await;
        let editor = app.create_user(Role::Editor).await;
        let admin = app.create_user(Role::Admin).await;
        let token = app.api_token(&editor).await;
        let (_, viewer) = app.signed_in(Role::Viewer).await;
        Team { app, token, editor, admin, viewer }
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> Value {
        let response = self.app.api(method, path, &self.token).json(&body).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// An incident, with its milestones `minutes` after its start.
    async fn incident(
        &self,
        title: &str,
        severity: &str,
        started: &str,
        service: &str,
        minutes: [Option<i64>; 3],
    ) -> String {
        let body =
            json!({"title": title, "severity": severity, "started_at": started, "services": [service]});
        let created = self.send(Method::POST, "/api/v1/incidents", body).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let start =
            time::OffsetDateTime::parse(started, &time::format_description::well_known::Rfc3339).unwrap();
        let mut patch = json!({"version": created["version"]});
        for (name, minutes) in ["detected_at", "mitigated_at", "resolved_at"].into_iter().zip(minutes) {
            if let Some(minutes) = minutes {
                let at = start + time::Duration::minutes(minutes);
                patch[name] = json!(at.format(&time::format_description::well_known::Rfc3339).unwrap());
            }
        }
        if minutes.iter().any(Option::is_some) {
            self.send(Method::PATCH, &format!("/api/v1/incidents/{id}"), patch).await;
        }
        id
    }

    async fn cause(&self, incident: &str, category: &str) {
        let body = json!({"kind": "root", "category": category, "description": "Described."});
        self.send(Method::POST, &format!("/api/v1/incidents/{incident}/causes"), body).await;
    }

    /// An action item, created (and done) when `item` says.
    async fn item(&self, incident: &str, item: Item<'_>) {
        let Item { title, kind, owner, status, due, dates } = item;
        let body = json!({"title": title, "kind": kind, "owner_id": owner, "status": status, "due_on": due});
        let item = self.send(Method::POST, &format!("/api/v1/incidents/{incident}/action_items"), body).await;
        if let Some((created, done)) = dates {
            sqlx::query("update action_item set created_at = $2::timestamptz, done_at = $3::timestamptz where id = $1")
                .bind(Uuid::parse_str(item["id"].as_str().unwrap()).unwrap())
                .bind(created)
                .bind(done)
                .execute(&self.app.pool)
                .await
                .unwrap();
        }
    }

    /// Evidence whose analysis named the suspect `key` (written as the
    /// analysis worker would store it).
    async fn suspect(&self, incident: &str, key: &str) {
        let sha = format!("{:064x}", Uuid::new_v4().as_u128());
        sqlx::query("insert into artifact_blob (sha256, size) values ($1, 1)")
            .bind(&sha)
            .execute(&self.app.pool)
            .await
            .unwrap();
        let analysis = json!({"format": "goroutine_dump", "suspects": [{"key": key, "signature": format!("{key} signature")}]});
        sqlx::query(
            "insert into artifact (id, incident_id, sha256, size, file_name, format, analysis_status, analysis) \
             values ($1, $2, $3, 1, 'goroutines.txt', 'goroutine_dump', 'done', $4)",
        )
        .bind(Uuid::now_v7())
        .bind(Uuid::parse_str(incident).unwrap())
        .bind(&sha)
        .bind(analysis)
        .execute(&self.app.pool)
        .await
        .unwrap();
    }

    async fn playbook(&self, title: &str) -> Value {
        let body = json!({"title": title, "body": "- [ ] Check it\n- [ ] Fix it\n"});
        self.send(Method::POST, "/api/v1/playbooks", body).await
    }

    async fn apply(&self, incident: &str, playbook: &Value) {
        let body = json!({"playbook_id": playbook["id"]});
        self.send(Method::POST, &format!("/api/v1/incidents/{incident}/playbooks"), body).await;
    }

    async fn insights(&self, query: &str) -> Value {
        self.app.api_json(&format!("/api/v1/insights?{query}"), &self.token).await
    }

    /// What a link behind a figure lists: incident references, or action
    /// item titles.
    async fn listed(&self, link: &str) -> BTreeSet<String> {
        if let Some(query) = link.strip_prefix("/incidents?") {
            let listed =
                self.app.api_json(&format!("/api/v1/incidents?{query}&per_page=200"), &self.token).await;
            assert_eq!(listed["more"], false, "{link}");
            return listed["incidents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["ref"].as_str().unwrap().to_owned())
                .collect();
        }
        let response = self.viewer.get(link).await;
        assert_eq!(response.status(), 200, "{link}");
        let page = response.text().await.unwrap();
        let (pattern, what) = if link.starts_with("/insights/incidents?") {
            (r#"<td class="incident-ref nowrap"><a href="/incidents/(INC-\d+)">"#, "incidents")
        } else {
            assert!(link.starts_with("/insights/action-items?"), "{link}");
            (r#"<td>([^<]+) <span class="chip">"#, "action items")
        };
        let found: BTreeSet<String> =
            regex::Regex::new(pattern).unwrap().captures_iter(&page).map(|c| c[1].to_owned()).collect();
        assert!(page.contains(&format!(">{} {what}.<", found.len())), "the list says how many: {page}");
        found
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn close(actual: &Value, expected: f64) {
    let actual = actual.as_f64().unwrap_or_else(|| panic!("{actual} is a number, {expected} expected"));
    assert!((actual - expected).abs() < 1e-6, "{actual} is {expected}");
}

/// Median and p90 of a spread, as `[count, median, p90]` (None: null).
fn spread(spread: &Value, count: i64, median: Option<f64>, p90: Option<f64>) {
    assert_eq!(spread["incidents"], count, "{spread}");
    for (name, expected) in [("median_seconds", median), ("p90_seconds", p90)] {
        match expected {
            Some(expected) => close(&spread[name], expected),
            None => assert!(spread[name].is_null(), "{spread}"),
        }
    }
}

fn names(list: &Value) -> Vec<(String, i64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_owned(), r["incidents"].as_i64().unwrap()))
        .collect()
}

fn pairs(items: &[(&str, i64)]) -> Vec<(String, i64)> {
    items.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

/// The data set of this file's head.
async fn seeded() -> Team {
    let team = Team::new().await;
    let (editor, admin) = (Some(team.editor.id), Some(team.admin.id));
    let inc1 = team
        .incident("Checkout 5xx", "SEV1", "2025-01-05T10:00:00Z", "checkout", [Some(10), Some(30), Some(60)])
        .await;
    let inc2 = team
        .incident(
            "Checkout slow",
            "SEV2",
            "2025-01-12T08:00:00Z",
            "checkout",
            [Some(20), Some(50), Some(120)],
        )
        .await;
    let inc3 = team
        .incident("Payments leak", "SEV2", "2025-01-20T12:00:00Z", "payments", [Some(40), Some(80), None])
        .await;
    let inc4 = team
        .incident("Payments stuck", "SEV3", "2025-01-28T09:00:00Z", "payments", [Some(100), None, None])
        .await;
    let inc5 = team
        .incident("Checkout again", "SEV1", "2025-03-03T10:00:00Z", "checkout", [Some(5), Some(15), Some(45)])
        .await;
    let inc6 =
        team.incident("Search queue", "SEV4", "2025-03-15T10:00:00Z", "search", [Some(15), None, None]).await;
    let inc7 =
        team.incident("Old checkout", "SEV2", "2024-12-20T10:00:00Z", "checkout", [None, None, None]).await;
    for (incident, category) in [
        (&inc1, "missing timeout"),
        (&inc2, "missing timeout"),
        (&inc2, "capacity"),
        (&inc3, "goroutine leak"),
        (&inc4, "goroutine leak"),
        (&inc5, "missing timeout"),
        (&inc6, "capacity"),
        (&inc7, "missing timeout"),
    ] {
        team.cause(incident, category).await;
    }
    team.suspect(&inc3, "http-client-persistconn").await;
    team.suspect(&inc4, "chan-send-no-receiver").await;
    team.suspect(&inc6, "http-client-persistconn").await;
    team.item(&inc1, Item::done("i1", "prevent", editor, "2025-01-06T00:00:00Z", "2025-01-16T00:00:00Z"))
        .await;
    team.item(&inc2, Item::done("i2", "detect", editor, "2025-01-13T00:00:00Z", "2025-02-02T00:00:00Z"))
        .await;
    team.item(&inc3, Item::done("i3", "prevent", admin, "2025-01-21T00:00:00Z", "2025-02-01T12:00:00Z"))
        .await;
    team.item(&inc7, Item::done("i4", "prevent", admin, "2024-12-21T00:00:00Z", "2025-02-10T12:00:00Z"))
        .await;
    team.item(&inc4, Item::pending("i5", "process", editor, "open", Some("2025-02-01"))).await;
    team.item(&inc5, Item::pending("i6", "prevent", admin, "in_progress", Some("2099-01-01"))).await;
    team.item(&inc6, Item::pending("i7", "detect", None, "open", Some("2025-03-20"))).await;
    team.item(&inc5, Item::pending("i8", "mitigate", editor, "wont_do", None)).await;
    let timeouts = team.playbook("Timeouts first").await;
    let leaks = team.playbook("Leak hunt").await;
    team.apply(&inc1, &timeouts).await;
    team.apply(&inc5, &timeouts).await;
    team.apply(&inc3, &leaks).await;
    team
}

#[tokio::test]
async fn durations_and_severities_per_month_match_the_hand_computed_figures() {
    let team = seeded().await;

    let figures = team.insights(RANGE).await;

    assert_eq!(figures["percentile"], "percentile_cont");
    assert_eq!(figures["incidents"], 6, "INC-7 started before the range");
    let months: Vec<&str> =
        figures["months"].as_array().unwrap().iter().map(|m| m["month"].as_str().unwrap()).collect();
    assert_eq!(months, ["2025-01", "2025-02", "2025-03"], "an empty month is a month still");
    let [january, february, march] = [0, 1, 2].map(|i| figures["months"][i].clone());
    let severities = |month: &Value| -> Vec<i64> {
        month["severities"].as_array().unwrap().iter().map(|s| s["incidents"].as_i64().unwrap()).collect()
    };
    assert_eq!((january["incidents"].as_i64(), severities(&january)), (Some(4), vec![1, 2, 1, 0]));
    assert_eq!((february["incidents"].as_i64(), severities(&february)), (Some(0), vec![0, 0, 0, 0]));
    assert_eq!((march["incidents"].as_i64(), severities(&march)), (Some(2), vec![1, 0, 0, 1]));
    // January: detect 10, 20, 40, 100 min: median (20+40)/2; p90 at 2.7: 40 + 0.7 * 60.
    spread(&january["detect"], 4, Some(30.0 * MIN), Some(82.0 * MIN));
    // Mitigate 30, 50, 80: median 50; p90 at 1.8: 50 + 0.8 * 30.
    spread(&january["mitigate"], 3, Some(50.0 * MIN), Some(74.0 * MIN));
    // Resolve 60, 120: median 90; p90 at 0.9: 60 + 0.9 * 60.
    spread(&january["resolve"], 2, Some(90.0 * MIN), Some(114.0 * MIN));
    spread(&february["detect"], 0, None, None);
    // March: detect 5, 15: median 10; p90 at 0.9: 5 + 0.9 * 10. One mitigated, one resolved.
    spread(&march["detect"], 2, Some(10.0 * MIN), Some(14.0 * MIN));
    spread(&march["mitigate"], 1, Some(15.0 * MIN), Some(15.0 * MIN));
    spread(&march["resolve"], 1, Some(45.0 * MIN), Some(45.0 * MIN));
}

#[tokio::test]
async fn causes_suspects_recurrences_and_playbooks_match_the_hand_computed_figures() {
    let team = seeded().await;

    let figures = team.insights(RANGE).await;

    assert_eq!(
        names(&figures["causes"]),
        pairs(&[("missing timeout", 3), ("capacity", 2), ("goroutine leak", 2)]),
        "most frequent first, then by name"
    );
    assert_eq!(
        names(&figures["suspects"]),
        pairs(&[("http-client-persistconn", 2), ("chan-send-no-receiver", 1)])
    );
    assert_eq!(figures["suspects"][0]["signature"], "http-client-persistconn signature");
    // Missing timeout: i1 (prevent, INC-1) done 01-16, so from 01-17 on: INC-5
    // (INC-2 started before). Goroutine leak: i3 done 02-01, and no leak since.
    // Capacity: its only item, i2, is not of kind prevent.
    let causes = figures["recurring"]["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(
        (&causes[0]["name"], &causes[0]["since"], &causes[0]["incidents"]),
        (&json!("missing timeout"), &json!("2025-01-17"), &json!(1))
    );
    assert_eq!(
        causes[0]["prevented_by"],
        json!({"title": "i1", "incident": "INC-1", "done_at": "2025-01-16T00:00:00Z"})
    );
    // The persistConn suspect: i3 on INC-3 done 02-01 12:00; INC-6 shows it on 03-15.
    let suspects = figures["recurring"]["suspects"].as_array().unwrap();
    assert_eq!(names(&figures["recurring"]["suspects"]), pairs(&[("http-client-persistconn", 1)]));
    assert_eq!(
        (&suspects[0]["since"], &suspects[0]["prevented_by"]["incident"]),
        (&json!("2025-02-02"), &json!("INC-3"))
    );
    let playbooks: Vec<(&str, i64)> = figures["playbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["title"].as_str().unwrap(), p["checklists"].as_i64().unwrap()))
        .collect();
    assert_eq!(playbooks, [("Timeouts first", 2), ("Leak hunt", 1)]);
}

#[tokio::test]
async fn action_item_figures_match_the_hand_computed_figures() {
    let team = seeded().await;

    let items = team.insights(RANGE).await["action_items"].clone();

    // Open: i5, i6, i7; overdue: i5 and i7; done in the range: i1 to i4 (i4's
    // incident started before the range: items count by their own dates).
    assert_eq!(
        (items["open"].as_i64(), items["overdue"].as_i64(), items["done"].as_i64()),
        (Some(3), Some(2), Some(4))
    );
    // To close: 10, 11.5, 20, 51.5 days: median (11.5 + 20) / 2.
    close(&items["median_close_seconds"], 15.75 * DAY);
    let months: Vec<(i64, Option<f64>)> = items["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["done"].as_i64().unwrap(), m["median_close_seconds"].as_f64()))
        .collect();
    assert_eq!(
        months,
        [(1, Some(10.0 * DAY)), (3, Some(20.0 * DAY)), (0, None)],
        "February: 11.5, 20, 51.5 days"
    );
    // Owner, open, overdue, done, median time to close.
    type OwnerFigures<'a> = (Option<&'a str>, i64, i64, i64, Option<f64>);
    let owners: Vec<OwnerFigures> = items["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let figures =
                (o["open"].as_i64().unwrap(), o["overdue"].as_i64().unwrap(), o["done"].as_i64().unwrap());
            (o["owner"].as_str(), figures.0, figures.1, figures.2, o["median_close_seconds"].as_f64())
        })
        .collect();
    assert_eq!(
        owners,
        [
            (Some(team.admin.name.as_str()), 1, 0, 2, Some(31.5 * DAY)), // i6; i3, i4: (11.5 + 51.5) / 2
            (Some(team.editor.name.as_str()), 1, 1, 2, Some(15.0 * DAY)), // i5; i1, i2: (10 + 20) / 2; i8 won't do
            (None, 1, 1, 0, None),                                        // i7
        ]
    );
    assert_eq!(items["owners"][0]["owner_id"], json!(team.admin.id));
}

#[tokio::test]
async fn filters_narrow_every_figure() {
    let team = seeded().await;

    let sev2 = team.insights(&format!("{RANGE}&severity=sev2")).await;
    assert_eq!(sev2["filters"]["severity"], "SEV2");
    assert_eq!(sev2["incidents"], 2);
    // INC-2 and INC-3: detect 20 and 40 min: median 30, p90 20 + 0.9 * 20.
    spread(&sev2["months"][0]["detect"], 2, Some(30.0 * MIN), Some(38.0 * MIN));
    assert_eq!(
        names(&sev2["causes"]),
        pairs(&[("capacity", 1), ("goroutine leak", 1), ("missing timeout", 1)])
    );
    // Items of SEV2 incidents (INC-2, INC-3, INC-7): nothing open; i2, i3, i4 done.
    let items = &sev2["action_items"];
    assert_eq!((items["open"].as_i64(), items["done"].as_i64()), (Some(0), Some(3)));
    assert!(sev2["recurring"]["causes"].as_array().unwrap().is_empty(), "INC-5 is SEV1");

    let payments = team.insights(&format!("{RANGE}&service=Payments")).await;
    assert_eq!(
        (payments["incidents"].as_i64(), payments["filters"]["service"].as_str()),
        (Some(2), Some("payments"))
    );
    assert_eq!(
        names(&payments["suspects"]),
        pairs(&[("chan-send-no-receiver", 1), ("http-client-persistconn", 1)])
    );

    let leaks = team.insights(&format!("{RANGE}&cause=goroutine+leak")).await;
    assert_eq!(leaks["incidents"], 2);
    assert_eq!(leaks["playbooks"].as_array().unwrap().len(), 1);
    assert_eq!(
        (&leaks["playbooks"][0]["title"], &leaks["playbooks"][0]["checklists"]),
        (&json!("Leak hunt"), &json!(1))
    );

    let march = team.insights("from=2025-03-01&to=2025-03-31").await;
    assert_eq!((march["incidents"].as_i64(), march["months"].as_array().unwrap().len()), (Some(2), 1));
    assert_eq!(names(&march["causes"]), pairs(&[("capacity", 1), ("missing timeout", 1)]));
    assert_eq!(march["action_items"]["done"], 0, "nothing was done in March");
    assert_eq!(march["action_items"]["open"], 3, "open items count whatever the range");

    let both = team.insights(&format!("{RANGE}&service=checkout&cause=capacity")).await;
    assert_eq!(both["incidents"], 1, "INC-2 alone");

    let nothing = team.insights(&format!("{RANGE}&service=nowhere")).await;
    assert_eq!(nothing["incidents"], 0);
    assert!(nothing["causes"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_links_behind_the_figures_list_exactly_what_they_count() {
    let team = seeded().await;
    let figures = team.insights(RANGE).await;
    let link = |value: &Value| value.as_str().unwrap().to_owned();

    // Months and severities: the incident list, by the month's days.
    let january = &figures["months"][0];
    assert_eq!(link(&january["link"]), "/incidents?from=2025-01-01&to=2025-01-31");
    assert_eq!(team.listed(&link(&january["link"])).await, set(&["INC-1", "INC-2", "INC-3", "INC-4"]));
    assert_eq!(team.listed(&link(&january["severities"][1]["link"])).await, set(&["INC-2", "INC-3"]));
    assert_eq!(team.listed(&link(&figures["months"][2]["severities"][3]["link"])).await, set(&["INC-6"]));
    assert_eq!(
        team.listed(&link(&figures["link"])).await,
        set(&["INC-1", "INC-2", "INC-3", "INC-4", "INC-5", "INC-6"])
    );
    // Categories, suspects, recurrences, playbooks.
    assert_eq!(team.listed(&link(&figures["causes"][0]["link"])).await, set(&["INC-1", "INC-2", "INC-5"]));
    assert_eq!(team.listed(&link(&figures["suspects"][0]["link"])).await, set(&["INC-3", "INC-6"]));
    assert_eq!(team.listed(&link(&figures["recurring"]["causes"][0]["link"])).await, set(&["INC-5"]));
    assert_eq!(team.listed(&link(&figures["recurring"]["suspects"][0]["link"])).await, set(&["INC-6"]));
    assert_eq!(team.listed(&link(&figures["playbooks"][0]["link"])).await, set(&["INC-1", "INC-5"]));
    // Action items: open, overdue and done, for everyone, by owner and by month.
    let items = &figures["action_items"];
    assert_eq!(team.listed(&link(&items["open_link"])).await, set(&["i5", "i6", "i7"]));
    assert_eq!(team.listed(&link(&items["overdue_link"])).await, set(&["i5", "i7"]));
    assert_eq!(team.listed(&link(&items["done_link"])).await, set(&["i1", "i2", "i3", "i4"]));
    assert_eq!(team.listed(&link(&items["months"][1]["link"])).await, set(&["i2", "i3", "i4"]));
    assert_eq!(team.listed(&link(&items["owners"][0]["done_link"])).await, set(&["i3", "i4"]));
    assert_eq!(team.listed(&link(&items["owners"][1]["overdue_link"])).await, set(&["i5"]));
    assert_eq!(team.listed(&link(&items["owners"][2]["open_link"])).await, set(&["i7"]));

    // With a cause filter, another category is listed by the insights' own list.
    let capacity = team.insights(&format!("{RANGE}&cause=capacity")).await;
    assert_eq!(names(&capacity["causes"]), pairs(&[("capacity", 2), ("missing timeout", 1)]));
    let second = link(&capacity["causes"][1]["link"]);
    assert!(second.starts_with("/insights/incidents?"), "{second}");
    assert_eq!(team.listed(&second).await, set(&["INC-2"]));
}

#[tokio::test]
async fn the_page_draws_each_figure_with_its_table_and_the_same_links() {
    let team = seeded().await;
    let figures = team.insights(RANGE).await;

    let response = team.viewer.get(&format!("/insights?{RANGE}")).await;

    assert_eq!(response.status(), 200);
    // Askama writes `&` in an attribute as `&#38;`, the charts as `&amp;`: the same link.
    let page = response.text().await.unwrap().replace("&#38;", "&amp;");
    let charts = page.matches("<svg class=\"chart\"").count();
    assert_eq!(charts, 10, "one chart per figure");
    assert_eq!(page.matches("<caption>").count(), charts, "a table with a caption beside each chart");
    assert_eq!(page.matches("</svg>").count(), charts);
    assert!(page.contains(r#"<a href="/insights" aria-current="page">Insights</a>"#));
    assert!(page.contains("percentile_cont"));
    assert!(page.contains(r#"aria-hidden="true""#) && page.contains(r#"tabindex="-1""#));
    let escaped = |link: &Value| link.as_str().unwrap().replace('&', "&amp;");
    // Each bar and point links where the table and the API do.
    let sev2_january = escaped(&figures["months"][0]["severities"][1]["link"]);
    assert_eq!(page.matches(&format!("href=\"{sev2_january}\"")).count(), 2, "the bar and its table cell");
    let january = escaped(&figures["months"][0]["link"]);
    assert!(page.matches(&format!("href=\"{january}\"")).count() >= 6, "the month's points and cells");
    for link in [
        &figures["causes"][0]["link"],
        &figures["suspects"][0]["link"],
        &figures["recurring"]["causes"][0]["link"],
    ] {
        assert_eq!(page.matches(&format!("href=\"{}\"", escaped(link))).count(), 2, "{link}");
    }
    assert!(page.contains("<td class=\"num\">4 of 4</td>"), "January's detected incidents");
    assert!(page.contains("<td class=\"num\">30 min</td>") && page.contains("<td class=\"num\">82 min</td>"));
}

#[tokio::test]
async fn figures_follow_a_change() {
    let team = seeded().await;
    assert_eq!(team.insights(RANGE).await["causes"][0]["incidents"], 3);

    let inc4 =
        team.app.api_json("/api/v1/incidents/INC-4", &team.token).await["id"].as_str().unwrap().to_owned();
    team.cause(&inc4, "missing timeout").await;

    // A request waits a moment for the figures computed again, and is
    // otherwise served those kept before: the change shows within one
    // computation, never later.
    let mut seen = 3;
    for _ in 0..50 {
        seen = team.insights(RANGE).await["causes"][0]["incidents"].as_i64().unwrap();
        if seen == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 4, "kept figures are not served long past a change");
}

#[tokio::test]
async fn bad_filters_are_refused_with_a_clear_message() {
    let team = Team::new().await;
    for (query, message) in [
        ("severity=SEV9", "SEV1"),
        ("from=yesterday", "`from`"),
        ("to=2025-02-30", "`to`"),
        ("from=2025-03-02&to=2025-03-01", "after"),
        ("from=1990-01-01&to=2025-01-01", "120 months"),
    ] {
        let response = team
            .app
            .api(Method::GET, &format!("/api/v1/insights?{query}"), &team.token)
            .send()
            .await
            .unwrap();
        let (status, code, text) = api_error(response).await;
        assert_eq!((status, code.as_str()), (400, "bad_request"), "{query}");
        assert!(text.contains(message), "{query}: {text}");
        let page = team.viewer.get(&format!("/insights?{query}")).await;
        assert_eq!(page.status(), 400, "{query}");
        assert!(page.text().await.unwrap().contains(message.trim_matches('`')), "{query}");
    }
    let list = team.viewer.get("/insights/action-items?state=lost").await;
    assert_eq!(list.status(), 400);
}

#[tokio::test]
async fn without_a_range_the_figures_cover_the_last_twelve_months() {
    let team = Team::new().await;

    let figures = team.insights("").await;

    let months = figures["months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(figures["filters"]["to"], today.to_string());
    assert!(figures["filters"]["from"].as_str().unwrap().ends_with("-01"));
    assert_eq!(figures["incidents"], 0);
    let page = team.viewer.get_text("/insights").await;
    assert!(page.contains("Nothing to show for these filters."), "{page}");
}
