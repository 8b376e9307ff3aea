//! The blameless-language assistant: the same notes from the API, the
//! editors' script and a save, which they never block; admins' phrases
//! and switches.

use debrief::auth::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, api_error};

/// Gives `id` the name `name`, as the people a text may name.
async fn rename(app: &TestApp, id: uuid::Uuid, name: &str) {
    sqlx::query("update app_user set name = $2 where id = $1")
        .bind(id)
        .bind(name)
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_api_points_out_blameful_wording_with_offsets_in_characters() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    rename(&app, editor.id, "Bo Bear").await;
    let token = app.api_token(&editor).await;
    let text = "Größe: Bo forgot to renew the certificate. The deploy failed to start. `human error`";

    let response =
        app.api(Method::POST, "/api/v1/wording", &token).json(&json!({"text": text})).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let notes = body["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let (start, end) =
        (notes[0]["start"].as_u64().unwrap() as usize, notes[0]["end"].as_u64().unwrap() as usize);
    let flagged: String = text.chars().skip(start).take(end - start).collect();
    assert!(flagged.starts_with("Bo"), "{flagged}");
    assert_eq!(notes[0]["rule"], "person-failure");
    assert!(!notes[0]["suggestion"].as_str().unwrap().is_empty());

    let missing =
        app.api(Method::POST, "/api/v1/wording", &token).json(&json!({"words": "x"})).send().await.unwrap();
    assert_eq!(api_error(missing).await.0, 422);
    let long = "a ".repeat(60_000);
    let too_long =
        app.api(Method::POST, "/api/v1/wording", &token).json(&json!({"text": long})).send().await.unwrap();
    assert_eq!(too_long.status(), 413);
    assert_eq!(app.client().post_form("/api/v1/wording", &[]).await.status(), 401);
}

#[tokio::test]
async fn the_editors_script_gets_the_same_check_behind_its_csrf_token() {
    let app = TestApp::spawn().await;
    let (_, editor) = app.signed_in(Role::Editor).await;
    let token = editor.csrf_token("/incidents/new").await;
    let text = json!({"text": "Root cause: human error."});
    let post = |csrf: Option<&str>| {
        let mut request = editor.http.post(editor.url("/wording")).json(&text);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send()
    };
    let ok = post(Some(&token)).await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["notes"][0]["rule"], "human-error");
    let forged = post(None).await.unwrap();
    assert_eq!(forged.status(), 403, "without the token, refused");
}

#[tokio::test]
async fn a_save_with_blameful_wording_is_saved_and_says_what_to_look_at() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    rename(&app, editor.id, "Chen Li").await;
    let (incident, _) = app.open_incident(&editor).await;
    let (_, browser) = app.signed_in(Role::Editor).await;
    let page = browser.get_text("/incidents/INC-1/edit/summary").await;
    assert!(page.contains("data-wording"), "the field asks for notes while typing");
    let version =
        page.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let saved = browser
        .submit(
            "/incidents/INC-1/edit/summary",
            "/incidents/INC-1/edit/summary",
            &[("version", &version), ("summary", "Chen should have checked the dashboard.")],
        )
        .await;
    assert_eq!(saved.status(), 303, "saved all the same");
    let after = browser.get_text("/incidents/INC-1").await;
    assert!(after.contains("Wording to look at again"), "the note comes with the save");
    assert!(after.contains("Chen should have checked the dashboard."));
    let stored: String = sqlx::query_scalar("select summary from incident where id = $1::uuid")
        .bind(&incident)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, "Chen should have checked the dashboard.");
}

#[tokio::test]
async fn admins_add_phrases_and_switch_built_in_rules_off() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let token = app.api_token(&editor).await;
    let check = |text: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let response = app
                .api(Method::POST, "/api/v1/wording", &token)
                .json(&json!({"text": text}))
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            body["notes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["rule"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, other) = app.signed_in(Role::Editor).await;
    assert_eq!(other.get("/admin/wording").await.status(), 403);

    let added = admin
        .submit(
            "/admin/wording",
            "/admin/wording",
            &[
                ("phrase", "Cowboy deploy"),
                ("message", "Judges a person."),
                ("suggestion", "Say what was skipped."),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let rules = check("It was a cowboy deploy.").await;
    assert_eq!(rules.len(), 1);
    assert!(rules[0].starts_with("custom-"), "{rules:?}");

    assert_eq!(check("Root cause: human error.").await, ["human-error"]);
    let off =
        admin.submit("/admin/wording", "/admin/wording/rules/human-error", &[("enabled", "false")]).await;
    assert_eq!(off.status(), 303);
    assert!(check("Root cause: human error.").await.is_empty(), "a rule switched off says nothing");
    let page = admin.get_text("/admin/wording").await;
    assert!(page.contains("cowboy deploy") && page.contains("Switch on"));
}
