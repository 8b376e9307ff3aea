//! In a real browser: headless Chromium driven through WebDriver.

use std::{
    net::TcpListener,
    panic::AssertUnwindSafe,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, wd::PrintConfiguration};
use futures_util::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::helpers::TestApp;

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Option<Driver> {
        let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(err) if std::env::var_os("DEBRIEF_SKIP_BROWSER_TESTS").is_some() => {
                eprintln!("skipping the browser test: {binary} cannot start ({err})");
                return None;
            }
            Err(err) => panic!(
                "the browser tests need chromedriver and chromium ({binary}: {err}); install them \
                 (apt-get install chromium chromium-driver) or set DEBRIEF_SKIP_BROWSER_TESTS=1"
            ),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Driver { child, port })
    }

    async fn browser(&self) -> Client {
        self.browser_with(&["--window-size=1280,900"]).await
    }

    /// A browser with more `args`: a window size, a colour scheme.
    async fn browser_with(&self, args: &[&str]) -> Client {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut all = vec![
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ];
        all.extend_from_slice(args);
        let capabilities = json!({ "goog:chromeOptions": { "binary": binary, "args": all } });
        let capabilities = capabilities.as_object().unwrap().clone();
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a browser session starts")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn fill(browser: &Client, id: &str, value: &str) {
    browser.find(Locator::Id(id)).await.unwrap().send_keys(value).await.unwrap();
}

#[tokio::test]
async fn a_new_admin_sets_up_debrief_signs_out_and_signs_in_again_in_a_browser() {
    let Some(driver) = Driver::start() else { return };
    let app = TestApp::spawn().await;
    let token = app.setup_token.clone().unwrap();
    let browser = driver.browser().await;

    let steps = AssertUnwindSafe(async {
        browser.goto(&app.url("/")).await.unwrap();
        assert!(
            browser.current_url().await.unwrap().path().ends_with("/setup"),
            "a fresh install opens setup"
        );
        fill(&browser, "setup_token", &token).await;
        fill(&browser, "name", "Ana Ops").await;
        fill(&browser, "email", "ana@example.com").await;
        fill(&browser, "password", "correct horse battery").await;
        fill(&browser, "password_confirm", "correct horse battery").await;
        browser.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();

        wait_for_text(&browser, "h1", "Dashboard").await;
        wait_for_text(&browser, "[data-testid=signed-in-user]", "Ana Ops").await;

        browser.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
        wait_for_text(&browser, "h1", "Sign in").await;
        wait_for_text(&browser, ".flash", "You have signed out.").await;

        fill(&browser, "email", "ana@example.com").await;
        fill(&browser, "password", "correct horse battery").await;
        browser.find(Locator::Css("form[action='/login'] button")).await.unwrap().click().await.unwrap();

        wait_for_text(&browser, "h1", "Dashboard").await;
        wait_for_text(&browser, "[data-testid=signed-in-user]", "Ana Ops").await;
        wait_for_text(&browser, "[data-testid=dashboard-empty]", "No postmortems yet").await;
    });
    // Close the browser whatever happened, then report.
    let outcome = steps.catch_unwind().await;
    browser.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The text of a PDF, by poppler's `pdftotext` (Debian's poppler-utils).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("debrief-print-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("page.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "pdftotext failed");
    // Words as one line: the layout of the page does not matter here.
    String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The element, once it is there (pages change in place, a moment later).
async fn element(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap()
}

async fn click(browser: &Client, css: &str) {
    element(browser, css).await.click().await.unwrap();
}

async fn set(browser: &Client, css: &str, value: &str) {
    let field = element(browser, css).await;
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

async fn choose(browser: &Client, css: &str, value: &str) {
    let select = element(browser, css).await;
    select.select_by_value(value).await.unwrap();
}

/// Waits until the element exists and its text contains `expected`.
async fn wait_for_text(browser: &Client, css: &str, expected: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(element) = browser.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
            && text.contains(expected)
        {
            return text;
        }
        assert!(Instant::now() < deadline, "{css} never showed {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in(browser: &Client, app: &TestApp, email: &str, password: &str) {
    browser.goto(&app.url("/login")).await.unwrap();
    fill(browser, "email", email).await;
    fill(browser, "password", password).await;
    click(browser, "form[action='/login'] button").await;
    wait_for_text(browser, "h1", "Dashboard").await;
}

#[tokio::test]
async fn an_editor_writes_a_whole_postmortem_and_a_viewer_reads_it_in_a_browser() {
    let Some(driver) = Driver::start() else { return };
    let app = TestApp::spawn().await;
    let editor = app.create_user(debrief::auth::domain::Role::Editor).await;
    let viewer = app.create_user(debrief::auth::domain::Role::Viewer).await;
    let browser = driver.browser().await;

    let steps = AssertUnwindSafe(async {
        sign_in(&browser, &app, &editor.email, &editor.password).await;

        // Open the incident.
        click(&browser, "a[href='/incidents/new']").await;
        set(&browser, "#title", "Checkout 5xx: payment client without timeouts").await;
        choose(&browser, "#severity", "SEV2").await;
        set(&browser, "#started_at", "").await;
        browser
            .execute("document.getElementById('started_at').value = '2026-11-20T14:00'", vec![])
            .await
            .unwrap();
        set(
            &browser,
            "#summary",
            "Checkout answered **5xx** for 47 minutes; see [the runbook](https://example.com/rb).",
        )
        .await;
        click(&browser, "form[action='/incidents/new'] button").await;
        wait_for_text(&browser, ".flash", "INC-1 is open as a draft.").await;

        // It opens as a document to read: no editing controls, the contents beside it.
        let controls = browser
            .find_all(Locator::Css(
                "article.postmortem .doc-part:not(#review) form, article.postmortem a.edit-link",
            ))
            .await
            .unwrap();
        assert!(controls.is_empty(), "read mode shows no editing controls");
        wait_for_text(&browser, "[data-testid=toc]", "Timeline").await;
        // When it last changed reads as time since, on the reader's clock.
        let opened = wait_for_text(&browser, "[data-testid=last-change]", "just now").await;
        assert_eq!(opened, "just now");
        click(&browser, "[data-testid=edit-all]").await;
        element(&browser, "#paste-lines").await;

        // Paste the timeline; the unreadable line comes back.
        set(
            &browser,
            "#paste-lines",
            "14:02 alert: 5xx > 5%\n14:11 hypothesis: payment client has no timeout\nnot a timeline line",
        )
        .await;
        click(&browser, "#paste button").await;
        wait_for_text(&browser, "[data-testid=rejected-lines]", "not a timeline line").await;
        let timeline =
            wait_for_text(&browser, "[data-testid=timeline]", "payment client has no timeout").await;
        assert!(timeline.contains("5xx > 5%"), "{timeline}");
        // The pasted alert offers the missing detection milestone.
        wait_for_text(&browser, "[data-testid=milestone-offers]", "Set Detected").await;
        wait_for_text(&browser, "[data-testid=toc]", "1 open hypothesis").await;

        // A line pasted by mistake is deleted in place: its edit form opens where it stands.
        set(&browser, "#paste-lines", "14:20 pasted by mistake").await;
        click(&browser, "#paste button").await;
        wait_for_text(&browser, "[data-testid=timeline]", "pasted by mistake").await;
        let events = browser.find_all(Locator::Css("li.event")).await.unwrap();
        events.last().unwrap().find(Locator::Css("a.edit-link")).await.unwrap().click().await.unwrap();
        element(&browser, ".inline-edit [data-testid=delete-event]").await;
        // The form opened in place is sound markup in its new home: no id twice on the page,
        // and it stands where the event stood, as a list item of the timeline.
        let doubled = browser
            .execute(
                "const ids = [...document.querySelectorAll('[id]')].map((e) => e.id); \
                 const doubled = ids.filter((id, i) => ids.indexOf(id) !== i); \
                 const holder = document.querySelector('.inline-edit'); \
                 return {doubled, holder: holder.tagName, parent: holder.parentElement.tagName};",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(doubled["doubled"], serde_json::json!([]), "{doubled}");
        assert_eq!(
            (doubled["holder"].as_str(), doubled["parent"].as_str()),
            (Some("LI"), Some("OL")),
            "{doubled}"
        );
        click(&browser, ".inline-edit [data-testid=delete-event]").await;
        browser.accept_alert().await.unwrap();
        wait_for_text(&browser, ".flash", "Event deleted from the timeline.").await;
        let timeline =
            browser.find(Locator::Css("[data-testid=timeline]")).await.unwrap().text().await.unwrap();
        assert!(!timeline.contains("pasted by mistake") && timeline.contains("5xx > 5%"), "{timeline}");

        // The hypothesis becomes confirmed, in place.
        choose(&browser, "[data-kind=hypothesis] select[name=hypothesis_status]", "confirmed").await;
        click(&browser, "[data-kind=hypothesis] form button").await;
        wait_for_text(&browser, "[data-testid=hypothesis-status]", "confirmed").await;

        // A root cause and an action item.
        click(&browser, "#causes details summary").await;
        choose(&browser, "#cause-kind", "root").await;
        choose(&browser, "#cause-category", "missing timeout").await;
        set(&browser, "#cause-description", "The payment client had no timeout.").await;
        set(&browser, "#cause-whys", "Requests hung.\nNo timeout was set.").await;
        click(&browser, "#causes form button.button-primary").await;
        wait_for_text(&browser, "[data-testid=causes]", "missing timeout").await;

        click(&browser, "#action-items details summary").await;
        set(&browser, "#item-title", "Set timeouts on every outbound client").await;
        click(&browser, "#action-items form button.button-primary").await;
        wait_for_text(&browser, "[data-testid=action-items]", "Set timeouts on every outbound client").await;

        // The impact's figures, typed in its own section.
        click(&browser, "#impact a.edit-link").await;
        set(&browser, "#field-impact_figures", "Checkout QPS 12,800 -> 3,000 for 47 min").await;
        click(&browser, "form[action='/incidents/INC-1/edit/impact'] button.button-primary").await;
        wait_for_text(&browser, "[data-testid=impact-figures]", "12,800").await;
        wait_for_text(&browser, ".flash", "Impact saved.").await;
        // The head that came back with the save reads as time since too.
        wait_for_text(&browser, "[data-testid=last-change]", "just now").await;

        // Printed, even in edit mode, it is the document alone: no navigation, forms or buttons,
        // and its links with their addresses.
        let pdf = browser.print(PrintConfiguration::builder().build().unwrap()).await.unwrap();
        let printed = pdf_text(&pdf);
        assert!(printed.contains("Checkout 5xx: payment client without timeouts"), "{printed}");
        assert!(
            printed.contains("payment client has no timeout") && printed.contains("Set timeouts"),
            "{printed}"
        );
        assert!(printed.contains("https://example.com/rb"), "links are printed: {printed}");
        for control in
            ["Sign out", "Dashboard", "Add the lines", "Add the event", "Send for review", "Contents", "Edit"]
        {
            assert!(!printed.contains(control), "{control} is not printed: {printed}");
        }

        // Review, then publish: this team's rules ask for no second pair of eyes (the review
        // itself has its own browser test).
        sqlx::query("update review_rule set required = '{}', approvals = 0")
            .execute(&app.pool)
            .await
            .unwrap();
        click(&browser, "[data-testid=send-for-review]").await;
        click(&browser, "[data-testid=confirm-send] button.button-primary").await;
        wait_for_text(&browser, "[data-testid=status]", "in review").await;
        click(&browser, "[data-testid=publish]").await;
        wait_for_text(&browser, "[data-testid=status]", "published").await;

        // A viewer reads it, and cannot change it.
        click(&browser, "form[action='/logout'] button").await;
        sign_in(&browser, &app, &viewer.email, &viewer.password).await;
        browser.goto(&app.url("/incidents/INC-1")).await.unwrap();
        let page =
            wait_for_text(&browser, "article.postmortem", "Checkout 5xx: payment client without timeouts")
                .await;
        for expected in [
            "published",
            "5xx > 5%",
            "confirmed",
            "missing timeout",
            "Set timeouts on every outbound client",
            "Checkout QPS",
        ] {
            assert!(page.contains(expected), "{expected}: {page}");
        }
        let controls = browser.find_all(Locator::Css("article.postmortem form, a.edit-link")).await.unwrap();
        assert!(controls.is_empty(), "a viewer sees no editing controls");
    });
    let outcome = steps.catch_unwind().await;
    browser.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn fixture_path(path: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path).display().to_string()
}

#[tokio::test]
async fn an_editor_drops_evidence_on_a_postmortem_and_reads_what_it_shows() {
    let Some(driver) = Driver::start() else { return };
    let app = TestApp::spawn().await;
    let editor = app.create_user(debrief::auth::domain::Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let event = json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "hypothesis", "body": "The payments client leaks connections"});
    let event: serde_json::Value = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/timeline"), &token)
        .json(&event)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event_id = event["id"].as_str().unwrap().to_owned();
    let browser = driver.browser().await;

    let steps = AssertUnwindSafe(async {
        sign_in(&browser, &app, &editor.email, &editor.password).await;
        browser.goto(&app.url("/incidents/INC-1?edit=evidence")).await.unwrap();
        element(&browser, "[data-testid=upload-form]").await;
        choose(&browser, "#upload-event", &event_id).await;
        set(&browser, "#upload-note", "from checkout-7f9c during the stall").await;
        // Watch for the progress bars the script shows while it sends.
        browser
            .execute(
                "window.sawProgress = 0; new MutationObserver(() => { \
                   window.sawProgress = Math.max(window.sawProgress, document.querySelectorAll('.upload-progress progress').length); \
                 }).observe(document.body, {subtree: true, childList: true});",
                vec![],
            )
            .await
            .unwrap();
        let files = format!(
            "{}\n{}",
            fixture_path("dumps/httpleak.goroutine.debug2.txt"),
            fixture_path("pprof/diff-before.cpu.pb.gz")
        );
        element(&browser, "#upload-file").await.send_keys(&files).await.unwrap();
        click(&browser, "[data-testid=upload-form] button[type=submit]").await;

        let evidence = wait_for_text(&browser, "[data-testid=artifacts]", "diff-before.cpu.pb.gz").await;
        assert!(evidence.contains("703 goroutines; suspect: "), "{evidence}");
        let seen = browser.execute("return window.sawProgress", vec![]).await.unwrap();
        assert_eq!(seen, json!(2), "a progress bar per file");
        let linked =
            wait_for_text(&browser, "[data-testid=event-artifacts]", "httpleak.goroutine.debug2.txt").await;
        assert!(linked.contains("diff-before.cpu.pb.gz"), "both were taken at the hypothesis: {linked}");
        wait_for_text(&browser, "[data-testid=toc]", "2 files").await;
        // The evidence is styled on screen, not only when printed.
        let border = browser
            .execute("return getComputedStyle(document.querySelector('.artifact')).borderTopStyle", vec![])
            .await
            .unwrap();
        assert_eq!(border, json!("solid"), "the screen stylesheet applies to the evidence");

        // The dump's page: the suspect first, then the groups.
        click(&browser, "#evidence a.artifact-name").await;
        let suspects = wait_for_text(&browser, "[data-testid=suspects]", "persistConn").await;
        assert!(suspects.contains("missing timeout") && suspects.contains("Add as a cause"), "{suspects}");
        wait_for_text(&browser, "[data-testid=groups]", "703 goroutines").await;

        // Two CPU profiles compared.
        let after = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(
                std::fs::read(fixture_path("pprof/diff-after.cpu.pb.gz")).unwrap(),
            )
            .file_name("diff-after.cpu.pb.gz"),
        );
        let path = format!("/api/v1/incidents/{incident}/artifacts");
        let response = app.api(reqwest::Method::POST, &path, &token).multipart(after).send().await.unwrap();
        assert_eq!(response.status(), 201);
        browser.goto(&app.url("/incidents/INC-1")).await.unwrap();
        let links = browser.find_all(Locator::Css("#evidence a.artifact-name")).await.unwrap();
        links[1].click().await.unwrap();
        wait_for_text(&browser, "[data-testid=top-table]", "flat").await;
        click(&browser, "[data-testid=compare-form] button").await;
        let diff = wait_for_text(&browser, "[data-testid=profile-diff]", "main.buildIndex").await;
        assert!(diff.contains('+'), "growth is signed: {diff}");
    });
    let outcome = steps.catch_unwind().await;
    browser.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn a_reader_searches_from_the_header_narrows_by_a_chip_opens_a_hit_and_exports_it() {
    let Some(driver) = Driver::start() else { return };
    let app = TestApp::spawn().await;
    let editor = app.create_user(debrief::auth::domain::Role::Editor).await;
    let token = app.api_token(&editor).await;
    for (title, services, day) in [
        ("Payments client leaked connections", json!(["payments"]), 3),
        ("Checkout client leaked goroutines", json!(["checkout"]), 10),
        ("Disk full on the runners", json!(["ci"]), 12),
    ] {
        let body = json!({"title": title, "severity": "SEV2", "services": services,
                          "started_at": format!("2026-11-{day:02}T10:00:00Z"),
                          "summary": "The HTTP client had no timeout, so requests piled up."});
        let response =
            app.api(reqwest::Method::POST, "/api/v1/incidents", &token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 201);
    }
    let viewer = app.create_user(debrief::auth::domain::Role::Viewer).await;
    let browser = driver.browser().await;

    let steps = AssertUnwindSafe(async {
        sign_in(&browser, &app, &viewer.email, &viewer.password).await;
        browser.goto(&app.url("/")).await.unwrap();
        let search = element(&browser, "#header-q").await;
        search.send_keys("leaked client\u{E007}").await.unwrap();
        let hits = wait_for_text(&browser, "[data-testid=hits]", "Checkout client leaked goroutines").await;
        assert!(hits.contains("Payments client leaked connections") && !hits.contains("Disk full"), "{hits}");
        let marked = browser.find_all(Locator::Css("[data-testid=hits] mark")).await.unwrap();
        assert!(!marked.is_empty(), "the matched words are highlighted");

        // Narrow by the checkout chip of a hit: the filter shows as a chip of its own.
        click(&browser, "[data-testid=hits] a[data-chip=service][href*='service=checkout']").await;
        let filters = wait_for_text(&browser, "[data-testid=active-filters]", "service: checkout").await;
        assert!(filters.contains("service: checkout"), "{filters}");
        let narrowed = element(&browser, "[data-testid=hits]").await.text().await.unwrap();
        assert!(!narrowed.contains("Payments client"), "{narrowed}");
        let url = browser.current_url().await.unwrap();
        assert!(
            url.as_str().contains("q=leaked+client") && url.as_str().contains("service=checkout"),
            "{url}"
        );

        // Open the hit, then its report.
        click(&browser, "[data-testid=hits] .hit-title a").await;
        wait_for_text(&browser, "h1", "Checkout client leaked goroutines").await;
        let link = element(&browser, "[data-testid=export]").await;
        let href = link.attr("href").await.unwrap().unwrap();
        assert_eq!(href, "/incidents/INC-2/export.md");
        // The link downloads; the same request from the page reads it.
        let report = browser
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 fetch(arguments[0]).then(r => r.text()).then(done, e => done(String(e)));",
                vec![json!(href)],
            )
            .await
            .unwrap();
        let report = report.as_str().unwrap_or_default().to_owned();
        assert!(report.contains("# INC-2: Checkout client leaked goroutines"), "{report}");
        assert!(report.contains("The HTTP client had no timeout"), "{report}");
    });
    let outcome = steps.catch_unwind().await;
    browser.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn an_editor_applies_a_suggested_playbook_ticks_its_steps_and_sees_the_progress_in_the_report() {
    let Some(driver) = Driver::start() else { return };
    let app = TestApp::spawn().await;
    let editor = app.create_user(debrief::auth::domain::Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let cause = json!({"kind": "root", "category": "missing timeout", "description": "No client timeout."});
    let path = format!("/api/v1/incidents/{incident}/causes");
    let response = app.api(reqwest::Method::POST, &path, &token).json(&cause).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let browser = driver.browser().await;

    let steps = AssertUnwindSafe(async {
        sign_in(&browser, &app, &editor.email, &editor.password).await;
        browser.goto(&app.url("/incidents/INC-1")).await.unwrap();
        // Edit the checklists part from the table of contents.
        click(&browser, "a.toc-edit[href='?edit=checklists']").await;
        let suggested = wait_for_text(&browser, "[data-testid=suggestions]", "HTTP client hardening").await;
        assert!(suggested.contains("a cause is missing timeout"), "{suggested}");
        let first = element(&browser, "[data-testid=apply-playbook] optgroup[label=Suggested] option").await;
        assert_eq!(first.text().await.unwrap(), "HTTP client hardening", "the suggestion comes first");
        click(&browser, "[data-testid=apply]").await;
        wait_for_text(&browser, "[data-testid=checklist] h3", "HTTP client hardening").await;
        let total = browser.find_all(Locator::Css("[data-testid=step]")).await.unwrap().len();
        assert!(total >= 6, "its steps are the checklist");

        // Tick two steps, one after the other, as the part is swapped in place.
        for n in 0..2 {
            let before = wait_for_text(&browser, "[data-testid=progress]", "done").await;
            assert!(before.starts_with(&format!("{n} of {total} done")), "{before}");
            click(&browser, "[data-testid=step][data-state=open] [data-testid=tick]").await;
            wait_for_text(&browser, "[data-testid=progress]", &format!("{} of {total} done", n + 1)).await;
        }
        // One does not apply here: its reason is asked for.
        click(&browser, "[data-testid=step][data-state=open] .step-na summary").await;
        let reason = element(&browser, "[data-testid=step][data-state=open] .step-na input[name=note]").await;
        reason.send_keys("This service makes no outbound calls through a proxy").await.unwrap();
        click(&browser, "[data-testid=step][data-state=open] [data-testid=not-applicable]").await;
        let progress = wait_for_text(&browser, "[data-testid=progress]", "1 not applicable").await;
        assert!(progress.starts_with(&format!("2 of {total} done")), "{progress}");
        let skipped =
            wait_for_text(&browser, "[data-testid=step][data-state=not_applicable]", "no outbound calls")
                .await;
        assert!(skipped.contains("Not applicable"), "{skipped}");

        // Reading again, the progress stays; the table of contents counts what is open.
        click(&browser, "[data-testid=done-editing]").await;
        let read = wait_for_text(&browser, "[data-testid=progress]", "done").await;
        assert!(read.starts_with(&format!("2 of {total} done, 1 not applicable")), "{read}");
        let toc = wait_for_text(&browser, "[data-testid=toc]", "Checklists").await;
        assert!(toc.contains(&format!("{} steps open", total - 3)), "{toc}");
        let report = browser
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 fetch('/incidents/INC-1/export.md').then(r => r.text()).then(done, e => done(String(e)));",
                vec![],
            )
            .await
            .unwrap();
        let report = report.as_str().unwrap_or_default().to_owned();
        assert!(
            report.contains(&format!("version 1: 2 of {total} steps done, 1 not applicable.")),
            "{report}"
        );
        assert!(report.contains("| not applicable |") && report.contains("no outbound calls"), "{report}");
    });
    let outcome = steps.catch_unwind().await;
    browser.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn wording_that_blames_is_pointed_out_while_typing_and_the_save_goes_through() {
    let Some(driver) = Driver::start() else { return };
    let app = TestApp::spawn().await;
    let editor = app.create_user(debrief::auth::domain::Role::Editor).await;
    app.open_incident(&editor).await;
    let browser = driver.browser().await;

    let steps = AssertUnwindSafe(async {
        sign_in(&browser, &app, &editor.email, &editor.password).await;
        browser.goto(&app.url("/incidents/INC-1/edit/summary")).await.unwrap();
        let field = element(&browser, "textarea[name=summary][data-wording]").await;
        field
            .send_keys("Root cause: human error. The on-call engineer should have checked the dashboard.")
            .await
            .unwrap();
        let notes = wait_for_text(&browser, "[data-testid=wording-notes]", "human error").await;
        assert!(notes.contains("should have checked"), "{notes}");
        // Quoted text is someone else's words.
        field.clear().await.unwrap();
        field.send_keys("The alert said `human error` and the deploy failed to start.").await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let shown = element(&browser, "[data-testid=wording-notes]").await.text().await.unwrap();
            if shown.trim().is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "the notes never cleared: {shown}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        click(&browser, "form[action='/incidents/INC-1/edit/summary'] button[type=submit]").await;
        wait_for_text(&browser, "#summary", "the deploy failed to start").await;
    });
    let outcome = steps.catch_unwind().await;
    browser.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn an_author_asks_a_review_the_reviewer_comments_and_asks_changes_then_approves_and_it_is_published() {
    use debrief::auth::domain::Role;

    /// Signs out whoever is signed in, then signs `user` in.
    async fn switch_to(browser: &Client, app: &TestApp, user: &crate::helpers::TestUser) {
        click(browser, "form[action='/logout'] button").await;
        wait_for_text(browser, "h1", "Sign in").await;
        sign_in(browser, app, &user.email, &user.password).await;
    }

    let Some(driver) = Driver::start() else { return };
    let app = TestApp::spawn().await;
    let author = app.create_user(Role::Editor).await;
    let reviewer = app.create_user(Role::Editor).await;
    let token = app.api_token(&author).await;
    let incident = json!({"title": "Search blips", "severity": "SEV4", "started_at": "2026-11-20T14:00:00Z",
                          "summary": "Search answered slowly for 4 minutes."});
    let response =
        app.api(reqwest::Method::POST, "/api/v1/incidents", &token).json(&incident).send().await.unwrap();
    assert_eq!(response.status(), 201, "the incident opens");
    let created: serde_json::Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let event =
        json!({"occurred_at": "2026-11-20T14:02:00Z", "kind": "alert", "body": "Search p99 alert fired"});
    let path = format!("/api/v1/incidents/{id}/timeline");
    let response = app.api(reqwest::Method::POST, &path, &token).json(&event).send().await.unwrap();
    assert_eq!(response.status(), 201, "the event is added");
    let mention = format!("@{}", author.email.split('@').next().unwrap());
    let browser = driver.browser().await;

    let steps = AssertUnwindSafe(async {
        // The author asks the reviewer, then sends it for review.
        sign_in(&browser, &app, &author.email, &author.password).await;
        browser.goto(&app.url("/incidents/INC-1")).await.unwrap();
        choose(&browser, "[data-testid=ask-reviewer] select[name=user_id]", &reviewer.id.to_string()).await;
        click(&browser, "[data-testid=ask-reviewer] button[type=submit]").await;
        wait_for_text(&browser, "[data-testid=reviewer]", "not reviewed yet").await;
        click(&browser, "[data-testid=send-for-review]").await;
        wait_for_text(&browser, "h1", "Send for review").await;
        click(&browser, "[data-testid=confirm-send] button.button-primary").await;
        wait_for_text(&browser, "[data-testid=status]", "in review").await;

        // The reviewer comments on the timeline's event, then asks for changes.
        switch_to(&browser, &app, &reviewer).await;
        browser.goto(&app.url("/incidents/INC-1")).await.unwrap();
        let margin = "aside.doc-margin[data-part=timeline]";
        click(&browser, &format!("{margin} details[data-testid=new-comment] summary")).await;
        // The event is the only thing in the timeline a comment may be on: the form carries it.
        let on_event = element(&browser, &format!("{margin} input[type=hidden][name=target]"))
            .await
            .attr("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(on_event.starts_with("timeline_event:"), "{on_event}");
        let comment = format!("Which dashboard showed this first? {mention}");
        set(&browser, &format!("{margin} textarea[name=body]"), &comment).await;
        click(&browser, &format!("{margin} details[data-testid=new-comment] button[type=submit]")).await;
        let thread =
            wait_for_text(&browser, "[data-testid=thread]", "Which dashboard showed this first?").await;
        assert!(thread.contains("Search p99 alert"), "the thread says what it is on: {thread}");
        let toc = wait_for_text(&browser, "[data-testid=toc] li[data-section=timeline]", "1 event").await;
        assert!(toc.contains("1 comment"), "the open thread is counted: {toc}");
        set(&browser, "#review-note", "Say which dashboard showed the alert first.").await;
        click(&browser, "[data-testid=request-changes]").await;
        wait_for_text(&browser, "[data-testid=reviewer]", "asked for changes").await;

        // The author is told, resolves the thread and names the dashboard.
        switch_to(&browser, &app, &author).await;
        let unread = wait_for_text(&browser, "[data-testid=unread-count]", "").await;
        assert!(unread.trim().parse::<u32>().is_ok_and(|n| n >= 1), "unread: {unread:?}");
        wait_for_text(&browser, "[data-testid=changes-requested]", "INC-1").await;
        browser.goto(&app.url("/incidents/INC-1")).await.unwrap();
        wait_for_text(&browser, "[data-testid=thread]", "Which dashboard showed this first?").await;
        click(&browser, "[data-testid=thread] [data-testid=resolve]").await;
        element(&browser, "[data-testid=thread][data-resolved=true]").await;
        click(&browser, "a.toc-edit[href='?edit=summary']").await;
        click(&browser, "#summary a.edit-link").await;
        set(
            &browser,
            "#field-summary",
            "Search answered slowly for 4 minutes; the search latency dashboard showed it first.",
        )
        .await;
        click(&browser, "form[action='/incidents/INC-1/edit/summary'] button.button-primary").await;
        wait_for_text(&browser, "#summary", "the search latency dashboard showed it first").await;
        click(&browser, "[data-testid=done-editing]").await;
        wait_for_text(&browser, "[data-testid=edit-all]", "Edit").await;

        // The reviewer sees what changed since, and approves.
        switch_to(&browser, &app, &reviewer).await;
        browser.goto(&app.url("/incidents/INC-1")).await.unwrap();
        wait_for_text(&browser, "[data-testid=edited-since]", "edited since").await;
        click(&browser, "[data-testid=approve]").await;
        wait_for_text(&browser, "[data-testid=reviewer]", "approved").await;

        // The author publishes it.
        switch_to(&browser, &app, &author).await;
        browser.goto(&app.url("/incidents/INC-1")).await.unwrap();
        wait_for_text(&browser, "[data-testid=ready-to-publish]", "Ready to publish").await;
        click(&browser, "[data-testid=publish]").await;
        wait_for_text(&browser, "[data-testid=status]", "published").await;
        browser.goto(&app.url("/incidents/INC-1")).await.unwrap();
        wait_for_text(&browser, "[data-testid=status]", "published").await;
        let toc = wait_for_text(&browser, "[data-testid=toc] li[data-section=timeline]", "1 event").await;
        assert!(!toc.contains("comment"), "a resolved thread is not counted: {toc}");
        let summary = wait_for_text(&browser, "#summary", "search latency dashboard").await;
        assert!(summary.contains("showed it first"), "{summary}");
    });
    let outcome = steps.catch_unwind().await;
    browser.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The relative luminance of a CSS `rgb(r, g, b)` colour, 0 (black) to 1 (white).
fn luminance(css: &str) -> f64 {
    let channels: Vec<f64> = css
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .take(3)
        .map(|c| c.trim().parse::<f64>().unwrap_or_else(|_| panic!("a colour: {css}")) / 255.0)
        .map(|c| if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) })
        .collect();
    0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
}

#[tokio::test]
async fn a_lead_reads_the_insights_on_a_phone_in_dark_mode_and_opens_the_incidents_behind_a_bar() {
    let Some(driver) = Driver::start() else { return };
    let app = TestApp::spawn().await;
    let editor = app.create_user(debrief::auth::domain::Role::Editor).await;
    let token = app.api_token(&editor).await;
    for (title, severity, started) in [
        ("Checkout 5xx", "SEV1", "2025-01-05T10:00:00Z"),
        ("Payments slow", "SEV2", "2025-01-12T08:00:00Z"),
        ("Search stale", "SEV2", "2025-02-20T12:00:00Z"),
        ("Login loop", "SEV1", "2025-03-03T10:00:00Z"),
    ] {
        let body =
            json!({"title": title, "severity": severity, "started_at": started, "services": ["checkout"]});
        app.api_create("/api/v1/incidents", &token, &body).await;
    }
    // A phone's width, dark.
    let browser = driver.browser_with(&["--window-size=390,844", "--force-dark-mode"]).await;

    let steps = AssertUnwindSafe(async {
        sign_in(&browser, &app, &editor.email, &editor.password).await;
        browser.goto(&app.url("/insights?from=2025-01-01&to=2025-03-31")).await.unwrap();
        let summary = wait_for_text(&browser, "[data-testid=insights-summary]", "4 incidents").await;
        assert!(summary.contains("2025-01-01") && summary.contains("2025-03-31"), "{summary}");

        // Nothing wider than the phone: charts scale, tables scroll in their own box.
        let widths = browser
            .execute("return [document.documentElement.scrollWidth, window.innerWidth]", vec![])
            .await
            .unwrap();
        let (page, window) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
        assert!(page <= window, "the page is {page} px wide in a {window} px window");

        // Dark, and the charts' words and bars stand out from it.
        let colours = browser
            .execute(
                "const chart = document.querySelector('#severity svg.chart');
                 const text = chart.querySelector('.chart-text');
                 return [getComputedStyle(document.body).backgroundColor, getComputedStyle(text).fill,
                         chart.getBoundingClientRect().width, document.querySelectorAll('svg.chart').length,
                         document.querySelectorAll('.insight-table table').length];",
                vec![],
            )
            .await
            .unwrap();
        let (background, text) =
            (luminance(colours[0].as_str().unwrap()), luminance(colours[1].as_str().unwrap()));
        assert!(background < 0.1, "a dark page: {colours}");
        assert!((text + 0.05) / (background + 0.05) >= 4.5, "chart text readable on it: {colours}");
        assert!(colours[2].as_f64().unwrap() <= window, "the chart fits the phone: {colours}");
        assert_eq!(colours[3], colours[4], "each chart has its table of numbers: {colours}");

        // January's SEV2 bar opens the list of exactly what it counts.
        let bar = browser
            .find(Locator::Css("#severity svg a[href*='severity=SEV2'][href*='from=2025-01-01']"))
            .await
            .unwrap();
        let href = bar.attr("href").await.unwrap().unwrap();
        bar.click().await.unwrap();
        wait_for_text(&browser, "[data-testid=search-total]", "1 incident").await;
        assert!(
            browser.current_url().await.unwrap().as_str().ends_with(&href),
            "the bar is a link to {href}"
        );
        let hits = browser.find_all(Locator::Css("[data-testid=hits] .hit-title")).await.unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].text().await.unwrap(), "Payments slow");
    });
    let outcome = steps.catch_unwind().await;
    browser.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
