//! The review: readiness before sending a draft, reviewers and their
//! verdicts (never the author's own approval), the rules of publishing,
//! edits after an approval, comments with threads and mentions, and the
//! notifications each of these sends.

use debrief::auth::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, TestUser, api_error};

/// An author, two reviewers, and a postmortem of the author's.
struct Review {
    app: TestApp,
    author: TestUser,
    author_client: Client,
    author_token: String,
    bo: TestUser,
    bo_token: String,
    cy: TestUser,
    cy_token: String,
    id: String,
}

impl Review {
    /// INC-1 at `severity`, opened by the author with `summary` written.
    async fn new(severity: &str, summary: &str) -> Review {
        let app = TestApp::spawn().await;
        let (author, author_client) = app.signed_in(Role::Editor).await;
        let author_token = app.api_token(&author).await;
        let bo = app.create_user(Role::Editor).await;
        let bo_token = app.api_token(&bo).await;
        let cy = app.create_user(Role::Editor).await;
        let cy_token = app.api_token(&cy).await;
        let body = json!({"title": "Checkout 5xx", "severity": severity, "started_at": "2026-11-20T14:00:00Z",
                          "summary": summary});
        let created =
            app.api(Method::POST, "/api/v1/incidents", &author_token).json(&body).send().await.unwrap();
        assert_eq!(created.status(), 201);
        let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        Review { app, author, author_client, author_token, bo, bo_token, cy, cy_token, id }
    }

    async fn call(&self, token: &str, method: Method, path: &str, body: Value) -> reqwest::Response {
        self.app.api(method, path, token).json(&body).send().await.unwrap()
    }

    async fn version(&self) -> i64 {
        self.app.api_json(&format!("/api/v1/incidents/{}", self.id), &self.author_token).await["version"]
            .as_i64()
            .unwrap()
    }

    /// Moves the postmortem as `token`'s user; the response.
    async fn move_to(&self, token: &str, status: &str) -> reqwest::Response {
        let version = self.version().await;
        let path = format!("/api/v1/incidents/{}/status", self.id);
        self.call(token, Method::POST, &path, json!({"status": status, "version": version})).await
    }

    async fn ask(&self, reviewer: &TestUser) {
        let path = format!("/api/v1/incidents/{}/reviewers", self.id);
        let asked = self.call(&self.author_token, Method::POST, &path, json!({"user_id": reviewer.id})).await;
        assert_eq!(asked.status(), 201);
    }

    async fn verdict(&self, token: &str, verdict: &str, note: &str) -> reqwest::Response {
        let path = format!("/api/v1/incidents/{}/reviews", self.id);
        self.call(token, Method::POST, &path, json!({"verdict": verdict, "note": note})).await
    }

    async fn notifications(&self, token: &str) -> Vec<(String, String)> {
        let body = self.app.api_json("/api/v1/notifications", token).await;
        body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["kind"].as_str().unwrap().to_owned(), n["text"].as_str().unwrap().to_owned()))
            .collect()
    }
}

fn kinds(notes: &[(String, String)]) -> Vec<&str> {
    let mut kinds: Vec<&str> = notes.iter().map(|(kind, _)| kind.as_str()).collect();
    kinds.sort();
    kinds
}

#[tokio::test]
async fn sending_for_review_lists_what_is_missing_and_publishing_a_sev2_needs_all_of_it() {
    let review = Review::new("SEV2", "Checkout answered 5xx for 47 minutes.").await;
    let (app, id) = (&review.app, &review.id);
    let hypothesis = json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "hypothesis", "body": "The payment pool is exhausted"});
    let added = review
        .call(&review.author_token, Method::POST, &format!("/api/v1/incidents/{id}/timeline"), hypothesis)
        .await;
    assert_eq!(added.status(), 201);

    let page = review.author_client.get_text("/incidents/INC-1/review").await;
    for gap in [
        "Impact is empty",
        "Trigger is empty",
        "Lessons is empty",
        "No root cause is named",
        "No action item is planned",
        "A hypothesis is still open: “The payment pool is exhausted”",
    ] {
        assert!(page.contains(gap), "{gap} is listed: {page}");
    }
    assert!(!page.contains("Summary is empty"), "the summary is written");
    // Required for a SEV2, so marked; the open hypothesis is only listed.
    assert!(page.contains("data-key=\"trigger\"><a href=\"/incidents/INC-1#trigger\">Trigger is empty</a> <span class=\"badge badge-required\">required</span>"), "{page}");
    assert!(page.contains("data-key=\"hypotheses\"><a href=\"/incidents/INC-1#timeline\">A hypothesis is still open: “The payment pool is exhausted”</a></li>"), "{page}");

    // Confirming sends it as it is.
    let version = review.version().await.to_string();
    let sent = review
        .author_client
        .submit(
            "/incidents/INC-1/review",
            "/incidents/INC-1/status",
            &[("version", &version), ("status", "in_review")],
        )
        .await;
    assert_eq!(sent.status(), 303);
    let readiness = app.api_json(&format!("/api/v1/incidents/{id}/readiness"), &review.author_token).await;
    assert_eq!(readiness["can_publish"], false);
    let required: Vec<&str> = readiness["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|gap| gap["required"] == true)
        .map(|gap| gap["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        ["impact", "trigger", "detection", "resolution", "root_cause", "action_item", "lessons"]
    );

    // Even approved by someone else, it cannot be published with gaps.
    review.ask(&review.bo).await;
    assert_eq!(review.verdict(&review.bo_token, "approve", "").await.status(), 201);
    let (status, code, message) = api_error(review.move_to(&review.author_token, "published").await).await;
    assert_eq!((status, code.as_str()), (422, "unprocessable"), "{message}");
    assert!(message.contains("Trigger is empty") && message.contains("No root cause is named"), "{message}");
    assert!(!message.contains("approval"), "the approval is there: {message}");
    // Nothing moved.
    assert_eq!(
        app.api_json(&format!("/api/v1/incidents/{id}"), &review.author_token).await["status"],
        "in_review"
    );

    // A viewer reads what is missing as not written, not as the prompts its writers see.
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    let read = viewer.get_text("/incidents/INC-1").await;
    let prompt = "The change or event that set the failure off";
    assert!(read.contains("data-testid=\"not-written\"") && !read.contains(prompt), "{read}");
    assert!(review.author_client.get_text("/incidents/INC-1").await.contains(prompt));
}

#[tokio::test]
async fn publishing_needs_approvals_from_others_and_no_changes_asked() {
    let review = Review::new("SEV4", "A short blip in search.").await;
    assert_eq!(review.move_to(&review.author_token, "in_review").await.status(), 200);

    // The author's own approval is refused and would not count.
    let (status, _, message) = api_error(review.verdict(&review.author_token, "approve", "").await).await;
    assert_eq!(status, 403, "{message}");
    let (status, _, message) = api_error(review.move_to(&review.author_token, "published").await).await;
    assert_eq!(status, 422);
    assert!(message.contains("needs an approval from someone other than its author and has 0"), "{message}");

    review.ask(&review.bo).await;
    review.ask(&review.cy).await;
    // Asking for changes needs a note saying which.
    assert_eq!(api_error(review.verdict(&review.bo_token, "request_changes", " ").await).await.0, 422);
    assert_eq!(
        review.verdict(&review.bo_token, "request_changes", "Name the cache that filled.").await.status(),
        201
    );
    assert_eq!(review.verdict(&review.cy_token, "approve", "Clear.").await.status(), 201);
    let (status, _, message) = api_error(review.move_to(&review.cy_token, "published").await).await;
    assert_eq!(status, 422);
    assert!(message.contains("Test editor asked for changes"), "{message}");

    // The author sees it on their dashboard.
    let dashboard = review.author_client.get_text("/").await;
    assert!(dashboard.contains("data-testid=\"changes-requested\""), "{dashboard}");

    // An admin asks two approvals of a SEV4.
    let (_, admin) = review.app.signed_in(Role::Admin).await;
    let mut fields: Vec<(String, String)> = Vec::new();
    for severity in ["SEV1", "SEV2", "SEV3", "SEV4"] {
        fields.push((format!("{severity}.required"), "summary".into()));
        fields.push((format!("{severity}.approvals"), if severity == "SEV4" { "2" } else { "1" }.into()));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(admin.submit("/admin/review", "/admin/review", &fields).await.status(), 303);

    // Bo's new verdict replaces the old: one approval of the two needed.
    assert_eq!(review.verdict(&review.bo_token, "approve", "").await.status(), 201);
    let readiness =
        review.app.api_json(&format!("/api/v1/incidents/{}/readiness", review.id), &review.bo_token).await;
    assert_eq!((readiness["approvals"].as_i64(), readiness["approvals_needed"].as_i64()), (Some(2), Some(2)));
    let published = review.move_to(&review.author_token, "published").await;
    assert_eq!(published.status(), 200);
    assert_eq!(published.json::<Value>().await.unwrap()["status"], "published");

    // A PATCH is held to the same rules: back to review, then straight on, again.
    assert_eq!(review.move_to(&review.author_token, "in_review").await.status(), 200);
    let version = review.version().await;
    let patched = review
        .call(
            &review.author_token,
            Method::PATCH,
            &format!("/api/v1/incidents/{}", review.id),
            json!({"version": version, "status": "published"}),
        )
        .await;
    assert_eq!(patched.status(), 200, "the approvals still stand");
}

#[tokio::test]
async fn an_edit_after_an_approval_is_shown_to_the_approver() {
    let review = Review::new("SEV4", "A short blip in search.").await;
    assert_eq!(review.move_to(&review.author_token, "in_review").await.status(), 200);
    review.ask(&review.bo).await;
    let bo_client = review.app.client();
    assert_eq!(bo_client.login(&review.bo.email, &review.bo.password).await.status(), 303);
    assert!(bo_client.get_text("/").await.contains("data-testid=\"waiting-for-me\""), "asked, so waiting");

    assert_eq!(review.verdict(&review.bo_token, "approve", "").await.status(), 201);
    let dashboard = bo_client.get_text("/").await;
    assert!(!dashboard.contains("data-testid=\"waiting-for-me\""), "reviewed: {dashboard}");
    let page = bo_client.get_text("/incidents/INC-1").await;
    assert!(!page.contains("data-testid=\"edited-since\""));

    let version = review.version().await;
    let edit = json!({"version": version, "summary": "A short blip in search, 4 minutes."});
    let edited = review
        .call(&review.author_token, Method::PATCH, &format!("/api/v1/incidents/{}", review.id), edit)
        .await;
    assert_eq!(edited.status(), 200);

    let reviews =
        review.app.api_json(&format!("/api/v1/incidents/{}/reviews", review.id), &review.bo_token).await;
    assert_eq!(reviews["reviewers"][0]["edits_since"], 1, "{reviews}");
    let page = bo_client.get_text("/incidents/INC-1").await;
    assert!(page.contains("edited since: 1 change"), "{page}");
    assert!(bo_client.get_text("/").await.contains("edited since you approved"));
}

#[tokio::test]
async fn comments_thread_mention_resolve_and_stay_out_of_the_report_unless_asked() {
    let review = Review::new("SEV3", "Checkout answered 5xx.").await;
    let (app, id) = (&review.app, &review.id);
    let event: Value = review
        .call(
            &review.author_token,
            Method::POST,
            &format!("/api/v1/incidents/{id}/timeline"),
            json!({"occurred_at": "2026-11-20T14:02:00Z", "kind": "alert", "body": "5xx alert fired"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let event_id = event["id"].as_str().unwrap();
    let stamp_sql = format!("select page_version from incident_stamp where incident_id = '{id}'");
    let before = app.count(&stamp_sql).await;

    let bo_handle = review.bo.email.split('@').next().unwrap().to_owned();
    let comments = format!("/api/v1/incidents/{id}/comments");
    let body = json!({"target_kind": "timeline_event", "target_id": event_id,
                      "body": format!("Was this **the first** alert? @{bo_handle} would know.")});
    let first = review.call(&review.cy_token, Method::POST, &comments, body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert!(app.count(&stamp_sql).await > before, "a comment changes the page's stamp");

    // A reply takes its thread's target.
    let reply = json!({"parent_id": first["id"], "body": "Yes: the dashboards only showed it later."});
    let reply: Value =
        review.call(&review.bo_token, Method::POST, &comments, reply).await.json().await.unwrap();
    assert_eq!(
        (reply["target_kind"].as_str(), reply["target_id"].as_str()),
        (Some("timeline_event"), Some(event_id))
    );
    assert_eq!(reply["parent_id"], first["id"]);

    // Bad targets are refused.
    for bad in [
        json!({"target_kind": "timeline_event", "target_id": "00000000-0000-0000-0000-000000000000", "body": "x"}),
        json!({"target_kind": "section", "target_id": "details", "body": "x"}),
        json!({"target_kind": "section", "target_id": "trigger", "body": "  "}),
    ] {
        assert_eq!(api_error(review.call(&review.cy_token, Method::POST, &comments, bad).await).await.0, 422);
    }

    // Bo was mentioned; the author hears of both; Cy of Bo's reply.
    assert_eq!(kinds(&review.notifications(&review.bo_token).await), ["mention"]);
    assert_eq!(kinds(&review.notifications(&review.author_token).await), ["comment", "comment"]);
    assert_eq!(kinds(&review.notifications(&review.cy_token).await), ["comment"]);

    // Beside the timeline, counted in the contents.
    let page = review.author_client.get_text("/incidents/INC-1").await;
    assert!(page.contains("<strong>the first</strong> alert?"), "Markdown is rendered");
    assert!(page.contains("On 2026-11-20 14:02"), "the thread names its event: {page}");
    assert!(page.contains("<li data-section=\"timeline\"><a href=\"#timeline\">Timeline</a> <span class=\"toc-count\">1 event, 2 comments</span>"), "{page}");

    // Resolved, it folds away and is no longer counted.
    let resolved = review
        .call(
            &review.author_token,
            Method::PATCH,
            &format!("/api/v1/comments/{}", reply["id"].as_str().unwrap()),
            json!({"resolved": true}),
        )
        .await;
    assert_eq!(resolved.status(), 200);
    assert_eq!(resolved.json::<Value>().await.unwrap()["resolved"], true, "the thread is resolved");
    let page = review.author_client.get_text("/incidents/INC-1").await;
    assert!(page.contains("data-resolved=\"true\""), "{page}");
    assert!(page.contains("<span class=\"toc-count\">1 event</span>"), "{page}");

    // Only its author edits a comment.
    let edit = json!({"body": "Changed"});
    assert_eq!(
        api_error(
            review
                .call(
                    &review.bo_token,
                    Method::PATCH,
                    &format!("/api/v1/comments/{}", first["id"].as_str().unwrap()),
                    edit
                )
                .await
        )
        .await
        .0,
        403
    );

    let token = review.author_token.clone();
    let report = |query: &'static str| {
        let path = format!("/api/v1/incidents/{id}/export.md{query}");
        let token = token.clone();
        async move { app.api(Method::GET, &path, &token).send().await.unwrap().text().await.unwrap() }
    };
    assert!(!report("").await.contains("Was this"), "comments are not part of the document");
    let with = report("?comments=1").await;
    assert!(
        with.contains("## Comments")
            && with.contains("### On timeline (resolved)")
            && with.contains("> Was this **the first** alert?"),
        "{with}"
    );
    let listed = app.api_json(&comments, &review.bo_token).await;
    assert_eq!(listed["comments"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn each_event_notifies_the_people_it_concerns_and_the_header_counts_them() {
    let review = Review::new("SEV4", "A short blip in search.").await;
    let (app, id) = (&review.app, &review.id);
    review.ask(&review.bo).await;
    assert_eq!(kinds(&review.notifications(&review.bo_token).await), ["review_requested"]);
    assert_eq!(review.move_to(&review.author_token, "in_review").await.status(), 200);
    assert_eq!(review.verdict(&review.cy_token, "request_changes", "Say which shard.").await.status(), 201);
    assert_eq!(review.verdict(&review.bo_token, "approve", "").await.status(), 201);
    assert_eq!(review.verdict(&review.cy_token, "approve", "").await.status(), 201);
    assert_eq!(review.move_to(&review.author_token, "published").await.status(), 200);

    let item = json!({"title": "Alert on shard latency", "kind": "detect", "owner_id": review.bo.id, "due_on": "2026-11-01"});
    let added = review
        .call(&review.author_token, Method::POST, &format!("/api/v1/incidents/{id}/action_items"), item)
        .await;
    assert_eq!(added.status(), 201);
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(debrief::notify::overdue::notice(&app.pool, "http://debrief.test", today).await.unwrap(), 1);
    assert_eq!(
        debrief::notify::overdue::notice(&app.pool, "http://debrief.test", today).await.unwrap(),
        0,
        "once"
    );

    let author = review.notifications(&review.author_token).await;
    assert_eq!(kinds(&author), ["approved", "approved", "changes_requested"], "{author:?}");
    let bo = review.notifications(&review.bo_token).await;
    assert_eq!(
        kinds(&bo),
        ["action_item_assigned", "action_item_overdue", "published", "review_requested", "review_requested"],
        "asked, then sent for review, then published: {bo:?}"
    );
    assert!(
        bo.iter().any(|(kind, text)| kind == "action_item_overdue"
            && text.contains("was due 2026-11-01: Alert on shard latency")),
        "{bo:?}"
    );

    // The header counts what is unread; opening one reads it.
    let bo_client = app.client();
    assert_eq!(bo_client.login(&review.bo.email, &review.bo.password).await.status(), 303);
    let dashboard = bo_client.get_text("/").await;
    assert!(dashboard.contains("data-testid=\"unread-count\">5<"), "{dashboard}");
    let list = bo_client.get_text("/notifications").await;
    let first_id = list
        .split("action=\"/notifications/")
        .filter_map(|rest| rest.split_once("/open\"").map(|(id, _)| id.to_owned()))
        .next()
        .unwrap();
    let opened = bo_client.submit("/notifications", &format!("/notifications/{first_id}/open"), &[]).await;
    assert_eq!(opened.status(), 303);
    assert!(opened.headers()["location"].to_str().unwrap().starts_with("/incidents/INC-1#"));
    assert!(bo_client.get_text("/").await.contains("data-testid=\"unread-count\">4<"));
    assert_eq!(bo_client.submit("/notifications", "/notifications/read", &[]).await.status(), 303);
    assert!(!bo_client.get_text("/").await.contains("data-testid=\"unread-count\""));
    // Someone else's notification is not theirs to open.
    let theirs = app.count("select count(*) from notification where read_at is null").await;
    assert!(theirs > 0);
    let _ = &review.author;
}
