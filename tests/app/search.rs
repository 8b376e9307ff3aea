//! Search over every part of every postmortem: ranking, web-search syntax,
//! the typo fallback, filters, snippets, and an index that follows every
//! edit at once.

use debrief::auth::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, api_error};

struct Corpus {
    app: TestApp,
    token: String,
}

impl Corpus {
    async fn new() -> Corpus {
        let app = TestApp::spawn().await;
        let editor = app.create_user(Role::Editor).await;
        let token = app.api_token(&editor).await;
        Corpus { app, token }
    }

    /// Opens an incident with `fields` (title, severity and start have
    /// defaults); returns its id.
    async fn incident(&self, fields: Value) -> String {
        let mut body =
            json!({"title": "An incident", "severity": "SEV3", "started_at": "2026-11-20T14:00:00Z"});
        for (key, value) in fields.as_object().unwrap() {
            body[key] = value.clone();
        }
        let response =
            self.app.api(Method::POST, "/api/v1/incidents", &self.token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        created["id"].as_str().unwrap().to_owned()
    }

    async fn patch(&self, id: &str, fields: Value) {
        let current = self.app.api_json(&format!("/api/v1/incidents/{id}"), &self.token).await;
        let mut body = fields;
        body["version"] = current["version"].clone();
        let response = self
            .app
            .api(Method::PATCH, &format!("/api/v1/incidents/{id}"), &self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    async fn add(&self, id: &str, part: &str, body: Value) -> Value {
        let response = self
            .app
            .api(Method::POST, &format!("/api/v1/incidents/{id}/{part}"), &self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{part}");
        response.json().await.unwrap()
    }

    async fn search(&self, query: &str) -> Value {
        self.app.api_json(&format!("/api/v1/search?{query}"), &self.token).await
    }

    /// The titles a search finds, best first.
    async fn titles(&self, query: &str) -> Vec<String> {
        let found = self.search(query).await;
        found["hits"]
            .as_array()
            .unwrap_or_else(|| panic!("{found}"))
            .iter()
            .map(|h| h["title"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn q(text: &str) -> String {
    form_urlencoded::Serializer::new(String::new()).append_pair("q", text).finish()
}

#[tokio::test]
async fn a_title_or_root_cause_hit_ranks_above_a_passing_mention() {
    let corpus = Corpus::new().await;
    let mention = corpus.incident(json!({"title": "Checkout errors"})).await;
    corpus
        .add(&mention, "timeline", json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "observation",
                                          "body": "Someone wondered whether the connection pool was involved"}))
        .await;
    corpus.incident(json!({"title": "Connection pool exhausted in payments"})).await;
    let cause = corpus.incident(json!({"title": "Slow search page"})).await;
    corpus
        .add(&cause, "causes", json!({"kind": "root", "category": "resource exhaustion",
                                       "description": "The connection pool was sized for a tenth of the traffic"}))
        .await;

    let titles = corpus.titles(&q("connection pool")).await;
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert_eq!(titles[2], "Checkout errors", "the passing mention comes last: {titles:?}");
    let found = corpus.search(&q("connection pool")).await;
    let scores: Vec<f64> =
        found["hits"].as_array().unwrap().iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores[1] > scores[2], "{scores:?}");
}

#[tokio::test]
async fn phrases_exclusions_and_or_read_as_a_web_search_does() {
    let corpus = Corpus::new().await;
    corpus.incident(json!({"title": "Redis timeout on the session store"})).await;
    corpus.incident(json!({"title": "Timeout talking to the payments API"})).await;
    corpus.incident(json!({"title": "Payments API returned a timeout page"})).await;
    corpus.incident(json!({"title": "Deadline exceeded in the ledger"})).await;

    let mut phrase = corpus.titles(&q("\"payments API\" timeout")).await;
    phrase.sort();
    assert_eq!(phrase, ["Payments API returned a timeout page", "Timeout talking to the payments API"]);
    assert_eq!(corpus.titles(&q("\"timeout talking\"")).await, ["Timeout talking to the payments API"]);
    let mut without = corpus.titles(&q("timeout -redis")).await;
    without.sort();
    assert_eq!(without, ["Payments API returned a timeout page", "Timeout talking to the payments API"]);
    let mut either = corpus.titles(&q("redis or deadline")).await;
    either.sort();
    assert_eq!(either, ["Deadline exceeded in the ledger", "Redis timeout on the session store"]);
}

#[tokio::test]
async fn a_misspelt_word_finds_what_the_right_one_would_and_says_so() {
    let corpus = Corpus::new().await;
    corpus.incident(json!({"title": "Goroutine leak in the checkout service"})).await;
    corpus.incident(json!({"title": "Disk full on the build runners"})).await;

    let found = corpus.search(&q("gorutine leek")).await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["hits"][0]["title"], "Goroutine leak in the checkout service");
    assert_eq!(found["corrected"], "goroutine leak");
    // Words nothing is near find nothing, and are not "corrected".
    let nothing = corpus.search(&q("xyzzyq")).await;
    assert_eq!((nothing["total"].as_i64(), &nothing["corrected"]), (Some(0), &Value::Null));
}

#[tokio::test]
async fn every_filter_narrows_and_they_combine() {
    let corpus = Corpus::new().await;
    let a = corpus
        .incident(json!({"title": "Checkout stalls", "severity": "SEV1", "services": ["checkout"],
                         "tags": ["go"], "started_at": "2026-10-03T10:00:00Z"}))
        .await;
    corpus
        .add(
            &a,
            "causes",
            json!({"kind": "root", "category": "missing timeout", "description": "No client timeout"}),
        )
        .await;
    let b = corpus
        .incident(json!({"title": "Checkout slow", "severity": "SEV2", "services": ["checkout", "payments"],
                         "tags": ["db"], "started_at": "2026-11-10T10:00:00Z"}))
        .await;
    corpus
        .add(&b, "causes", json!({"kind": "root", "category": "capacity", "description": "Too few replicas"}))
        .await;
    let c = corpus
        .incident(json!({"title": "Payments down", "severity": "SEV1", "services": ["payments"],
                         "tags": ["go"], "started_at": "2026-11-25T10:00:00Z"}))
        .await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(
            std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/dumps/chansend.goroutine.debug2.txt"),
            )
            .unwrap(),
        )
        .file_name("dump.txt"),
    );
    let response = corpus
        .app
        .api(Method::POST, &format!("/api/v1/incidents/{c}/artifacts"), &corpus.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    corpus.patch(&b, json!({"status": "in_review"})).await;

    let sorted = |mut titles: Vec<String>| {
        titles.sort();
        titles
    };
    assert_eq!(sorted(corpus.titles("severity=SEV1").await), ["Checkout stalls", "Payments down"]);
    assert_eq!(corpus.titles("status=in_review").await, ["Checkout slow"]);
    assert_eq!(sorted(corpus.titles("service=payments").await), ["Checkout slow", "Payments down"]);
    assert_eq!(sorted(corpus.titles("tag=go").await), ["Checkout stalls", "Payments down"]);
    assert_eq!(corpus.titles("cause=missing+timeout").await, ["Checkout stalls"]);
    assert_eq!(corpus.titles("format=goroutine_dump").await, ["Payments down"]);
    assert_eq!(corpus.titles("from=2026-11-01&to=2026-11-24").await, ["Checkout slow"]);
    assert_eq!(corpus.titles("from=2026-11-25").await, ["Payments down"], "the from day counts whole");
    assert_eq!(corpus.titles("to=2026-10-03").await, ["Checkout stalls"], "so does the to day");
    // Filters without text list newest first; they combine with each other and with text.
    assert_eq!(corpus.titles("service=checkout").await, ["Checkout slow", "Checkout stalls"]);
    assert_eq!(corpus.titles("service=payments&tag=go").await, ["Payments down"]);
    assert_eq!(
        corpus.titles("q=checkout&severity=SEV1&tag=go&cause=missing+timeout").await,
        ["Checkout stalls"]
    );
    assert!(corpus.titles("q=checkout&severity=SEV4").await.is_empty());
    // The list call takes the same filters.
    let listed = corpus.app.api_json("/api/v1/incidents?service=payments&severity=SEV1", &corpus.token).await;
    assert_eq!(
        (listed["total"].as_i64(), &listed["incidents"][0]["title"]),
        (Some(1), &json!("Payments down"))
    );
    // Sorting by date either way.
    assert_eq!(corpus.titles("q=checkout&sort=oldest").await, ["Checkout stalls", "Checkout slow"]);
    // Paging: the total stays the whole count.
    let page = corpus.search("service=checkout&per_page=1&page=2").await;
    assert_eq!((page["total"].as_i64(), &page["hits"][0]["title"]), (Some(2), &json!("Checkout stalls")));
    let past = corpus.search("service=checkout&per_page=1&page=5").await;
    assert_eq!((past["total"].as_i64(), past["hits"].as_array().map(Vec::len)), (Some(2), Some(0)));
}

#[tokio::test]
async fn a_bad_filter_is_named_in_a_400() {
    let corpus = Corpus::new().await;
    for (query, named) in [
        ("severity=SEV7", "SEV"),
        ("from=last+week", "`from`"),
        ("format=docx", "`format`"),
        ("sort=random", "`sort`"),
        ("from=2026-12-01&to=2026-11-01", "after"),
    ] {
        let response = corpus
            .app
            .api(Method::GET, &format!("/api/v1/search?{query}"), &corpus.token)
            .send()
            .await
            .unwrap();
        let (status, code, message) = api_error(response).await;
        assert_eq!(status, 400, "{query}");
        assert!(message.contains(named), "{query}: {code} {message}");
    }
}

#[tokio::test]
async fn snippets_highlight_the_matched_words_and_keep_hostile_text_escaped() {
    let corpus = Corpus::new().await;
    let id = corpus.incident(json!({"title": "Checkout stalls"})).await;
    corpus
        .patch(&id, json!({"summary": "<script>alert(1)</script> the payments client leaked goroutines & <b>connections</b>"}))
        .await;

    let found = corpus.search(&q("leaked")).await;
    let snippet = found["hits"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>leaked</mark>"), "{snippet}");
    assert!(snippet.contains("&lt;script&gt;") && snippet.contains("&amp;"), "{snippet}");
    assert!(!snippet.contains("<script>") && !snippet.contains("<b>"), "{snippet}");

    let (_, browser) = corpus.app.signed_in(Role::Viewer).await;
    let page = browser.get_text(&format!("/incidents?{}", q("leaked"))).await;
    assert!(page.contains("<mark>leaked</mark>"), "the page highlights too");
    let escaped = page.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
        || page.contains("&lt;script&gt;alert(1)&lt;/script&gt;");
    assert!(escaped, "and shows the text as written, escaped");
    assert!(!page.contains("<script>alert(1)") && !page.contains("<b>connections"));
}

#[tokio::test]
async fn the_index_follows_each_edit_of_each_part_at_once() {
    let corpus = Corpus::new().await;
    let id = corpus.incident(json!({"title": "Checkout stalls"})).await;
    let found = |word: &'static str| {
        let corpus = &corpus;
        async move { corpus.search(&q(word)).await["total"].as_i64().unwrap() }
    };
    assert_eq!(found("checkout").await, 1, "a new incident is found at once");

    for (field, word) in [
        ("summary", "zebrafish"),
        ("impact", "quokka"),
        ("trigger", "narwhal"),
        ("detection", "axolotl"),
        ("resolution", "pangolin"),
        ("went_well", "okapi"),
        ("went_badly", "tapir"),
        ("got_lucky", "wombat"),
    ] {
        corpus.patch(&id, json!({field: format!("It was the {word}.")})).await;
        assert_eq!(found(word).await, 1, "{field}");
    }
    corpus.patch(&id, json!({"services": ["ledgerd"], "tags": ["capybara"]})).await;
    assert_eq!((found("ledgerd").await, found("capybara").await), (1, 1));
    corpus.patch(&id, json!({"title": "Renamed stall"})).await;
    assert_eq!((found("renamed").await, found("checkout").await), (1, 0), "the old title is gone");

    let event = corpus
        .add(
            &id,
            "timeline",
            json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "hypothesis",
                                      "body": "Maybe the marmoset", "evidence": "Graph of the meerkat"}),
        )
        .await;
    assert_eq!((found("marmoset").await, found("meerkat").await), (1, 1));
    let cause = corpus
        .add(
            &id,
            "causes",
            json!({"kind": "contributing", "category": "capacity",
                                     "description": "The ocelot", "whys": ["because of the jackal"]}),
        )
        .await;
    assert_eq!((found("ocelot").await, found("jackal").await), (1, 1));
    let item =
        corpus.add(&id, "action_items", json!({"title": "Cage the mongoose", "kind": "prevent"})).await;
    assert_eq!(found("mongoose").await, 1);

    // Edits and deletions of parts leave the index at once too.
    let edit = |path: String, version: &Value, body: Value| {
        let mut body = body;
        body["version"] = version.clone();
        corpus.app.api(Method::PATCH, &path, &corpus.token).json(&body).send()
    };
    let event_id = event["id"].as_str().unwrap();
    assert_eq!(
        edit(format!("/api/v1/timeline/{event_id}"), &event["version"], json!({"body": "The lemur"}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!((found("lemur").await, found("marmoset").await), (1, 0));
    let cause_id = cause["id"].as_str().unwrap();
    let response = corpus
        .app
        .api(Method::DELETE, &format!("/api/v1/causes/{cause_id}"), &corpus.token)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(found("ocelot").await, 0);
    let item_id = item["id"].as_str().unwrap();
    let response = corpus
        .app
        .api(Method::DELETE, &format!("/api/v1/action_items/{item_id}"), &corpus.token)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(found("mongoose").await, 0);
}

#[tokio::test]
async fn evidence_notes_and_findings_are_searchable() {
    let corpus = Corpus::new().await;
    let id = corpus.incident(json!({"title": "Checkout stalls"})).await;
    corpus.incident(json!({"title": "Unrelated"})).await;
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                std::fs::read(
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("tests/fixtures/dumps/httpleak.goroutine.debug2.txt"),
                )
                .unwrap(),
            )
            .file_name("dump.txt"),
        )
        .text("note", "taken from the flamingo pod");
    let response = corpus
        .app
        .api(Method::POST, &format!("/api/v1/incidents/{id}/artifacts"), &corpus.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(corpus.titles(&q("flamingo")).await, ["Checkout stalls"], "the note");
    assert_eq!(
        corpus.titles(&q("persistConn readLoop")).await,
        ["Checkout stalls"],
        "the suspect's signature"
    );
}

#[tokio::test]
async fn a_deleted_incident_leaves_the_results_at_once() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let editor = app.create_user(Role::Editor).await;
    let (_, token) = app.open_incident(&editor).await;
    let search = || app.api_json("/api/v1/search?q=checkout", &token);
    assert_eq!(search().await["total"], 1);
    let response =
        admin.submit("/incidents/INC-1/delete", "/incidents/INC-1/delete", &[("confirm", "INC-1")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(search().await["total"], 0);
    assert_eq!(app.count("select count(*) from incident_search").await, 0);
}

#[tokio::test]
async fn the_list_page_searches_filters_with_chips_and_keeps_the_query_in_its_links() {
    let corpus = Corpus::new().await;
    corpus
        .incident(
            json!({"title": "Checkout stalls", "severity": "SEV1", "services": ["checkout"], "tags": ["go"]}),
        )
        .await;
    corpus.incident(json!({"title": "Checkout slow", "severity": "SEV2", "services": ["checkout"]})).await;
    corpus.incident(json!({"title": "Payments down", "services": ["payments"], "tags": ["go"]})).await;
    let (_, browser) = corpus.app.signed_in(Role::Viewer).await;

    let list = browser.get_text("/incidents").await;
    assert!(list.contains("href=\"/incidents?service=checkout\""), "a service chip links to its filter");
    assert!(list.contains("href=\"/incidents?tag=go\""), "a tag chip too");
    assert!(list.contains("href=\"/incidents?severity=SEV1\""), "and severity");
    assert!(
        browser.get_text("/").await.contains("data-testid=\"header-search\""),
        "every page has the search box"
    );

    let page = browser.get_text("/incidents?q=checkout&tag=go").await;
    assert!(page.contains("Checkout stalls") && !page.contains("Checkout slow"), "{page}");
    assert!(page.contains("href=\"/incidents?q=checkout\""), "the tag chip removes itself, keeping the text");
    assert!(page.contains("value=\"checkout\""), "the box shows the query");
    assert!(
        page.contains("href=\"/incidents?q=checkout&#38;tag=go&#38;service=checkout\""),
        "a chip on a hit narrows the search it is on: {page}"
    );
    let refused = browser.get("/incidents?severity=SEV9").await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("SEV1"), "the page names what is wrong");
}

/// The ids of a page of `text`'s hits as a full ranking gives them: every
/// match read and sorted, tier first (the title and root causes, then the
/// lead, then anywhere), newest first within a tier; or by date alone.
async fn ranked(app: &TestApp, text: &str, filter: &str, order: &str, page: i64) -> Vec<String> {
    let tier = "case when s.core @@ q then 3 when s.lead @@ q then 2 else 1 end";
    let order = match order {
        "relevance" => format!("{tier} desc, s.started_at desc, s.number desc"),
        "newest" => "s.started_at desc, s.number desc".to_owned(),
        _ => "s.started_at, s.number".to_owned(),
    };
    let sql = format!(
        "select s.incident_id::text from incident_search s, websearch_to_tsquery('english', $1) q \
         where s.document @@ q {filter} order by {order} limit 20 offset $2"
    );
    sqlx::query_scalar(&sql).bind(text).bind((page - 1) * 20).fetch_all(&app.pool).await.unwrap()
}

#[tokio::test]
async fn pages_agree_with_a_full_ranking_however_common_the_words() {
    let corpus = Corpus::new().await;
    let app = &corpus.app;
    debrief::demo::generate::generate_incidents(&app.pool, 3_000, |_| {}).await.unwrap();
    // Common and rare words, a filter, a phrase, an exclusion, deep pages
    // and both date orders: between them every way the search reads hits
    // (a rare search ranked whole; a glance at the newest rows, the
    // matches off their index up to a cap, a longer walk down the dates,
    // every match) is taken, as printing each one's name showed.
    let cases = [
        ("deploy", "", "", "relevance", 1),
        ("timeout", "", "", "relevance", 1),
        ("timeout", "&severity=SEV1", "and s.severity = 'SEV1'", "relevance", 1),
        ("leak", "", "", "relevance", 10),
        ("deploy", "", "", "relevance", 50),
        ("deploy", "", "", "newest", 48),
        ("cache", "", "", "newest", 3),
        ("cache", "", "", "relevance", 50),
        ("rollback", "", "", "oldest", 2),
        ("\"retry storm\"", "", "", "relevance", 2),
        ("leak -memory", "", "", "relevance", 1),
        ("deploy -rollback", "", "", "relevance", 5),
        ("dns or certificate", "&service=checkout", "and s.services @> array['checkout']", "relevance", 1),
    ];
    let mut counts = Vec::new();
    for (text, params, filter, order, page) in cases {
        let expected = ranked(app, text, filter, order, page).await;
        let query = format!("{}{params}&sort={order}&page={page}&per_page=20", q(text));
        let found = corpus.search(&query).await;
        let ids: Vec<String> =
            found["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids, expected, "{query}");
        assert!(!ids.is_empty(), "{query} finds something");
        let count: i64 = sqlx::query_scalar(&format!(
            "select count(*) from incident_search s, websearch_to_tsquery('english', $1) q where s.document @@ q {filter}"
        ))
        .bind(text)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let more = found["more"].as_bool().unwrap();
        assert_eq!(more, count > page * 20, "{query}: {count} hits in all");
        counts.push(count);
    }
    assert!(counts.iter().any(|c| *c > 1_000) && counts.iter().any(|c| *c < 100), "{counts:?}");
}
