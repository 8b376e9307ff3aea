//! In a real browser: headless Chromium driven through WebDriver.

use std::{
    net::TcpListener,
    panic::AssertUnwindSafe,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
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
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--window-size=1280,900"]
            }
        });
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

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
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

        assert_eq!(text_of(&browser, "h1").await, "Dashboard");
        assert_eq!(text_of(&browser, "[data-testid=signed-in-user]").await, "Ana Ops");

        browser.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
        assert_eq!(text_of(&browser, "h1").await, "Sign in");
        assert!(text_of(&browser, ".flash").await.contains("You have signed out."));

        fill(&browser, "email", "ana@example.com").await;
        fill(&browser, "password", "correct horse battery").await;
        browser.find(Locator::Css("form[action='/login'] button")).await.unwrap().click().await.unwrap();

        assert_eq!(text_of(&browser, "h1").await, "Dashboard");
        assert_eq!(text_of(&browser, "[data-testid=signed-in-user]").await, "Ana Ops");
        let empty = text_of(&browser, "[data-testid=dashboard-empty]").await;
        assert!(empty.contains("No postmortems yet"), "{empty}");
    });
    // Close the browser whatever happened, then report.
    let outcome = steps.catch_unwind().await;
    browser.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
