//! Error pages keep the site's layout: a signed-in user who meets a 404 or
//! a 403 still has the navigation and can sign out from there.

use debrief::auth::domain::Role;

use crate::helpers::{TestApp, extract_csrf};

/// Asserts the page shows the signed-in navigation for `name`.
fn assert_has_nav(page: &str, name: &str) {
    for link in ["href=\"/\"", "href=\"/incidents\"", "href=\"/action-items\"", "Action items", "Sign out"] {
        assert!(page.contains(link), "the navigation has {link}: {page}");
    }
    assert!(page.contains(&format!("data-testid=\"signed-in-user\">{name}</a>")), "{page}");
}

#[tokio::test]
async fn a_signed_in_viewer_keeps_the_navigation_on_a_404() {
    let app = TestApp::spawn().await;
    let (viewer, client) = app.signed_in(Role::Viewer).await;

    let response = client.get("/incidents/INC-999").await;

    assert_eq!(response.status(), 404);
    let page = response.text().await.unwrap();
    assert!(page.contains("There is nothing at this address."), "{page}");
    assert_has_nav(&page, &viewer.name);
    assert!(page.contains("href=\"/incidents\" aria-current=\"page\""), "{page}");
    assert!(!page.contains("href=\"/admin/users\""), "a viewer sees no admin links: {page}");
}

#[tokio::test]
async fn a_viewer_keeps_the_navigation_on_an_editor_only_page() {
    let app = TestApp::spawn().await;
    let (viewer, client) = app.signed_in(Role::Viewer).await;

    let response = client.get("/incidents/new").await;

    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(page.contains("This needs the editor role."), "{page}");
    assert_has_nav(&page, &viewer.name);
}

#[tokio::test]
async fn an_admin_keeps_the_admin_links_on_a_404() {
    let app = TestApp::spawn().await;
    let (admin, client) = app.signed_in(Role::Admin).await;

    let page = client.get_text("/incidents/INC-999").await;

    assert_has_nav(&page, &admin.name);
    assert!(page.contains("href=\"/admin/users\"") && page.contains("href=\"/admin/categories\""), "{page}");
}

#[tokio::test]
async fn the_sign_out_form_of_an_error_page_signs_out() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Viewer).await;
    let page = client.get_text("/incidents/INC-999").await;
    let token = extract_csrf(&page).expect("the error page has the sign-out form");

    let response = client.post_form("/logout", &[("csrf_token", &token)]).await;

    assert_eq!(response.status(), 303);
    assert_eq!(client.get("/incidents").await.status(), 303, "signed out: sent to sign in");
}

#[tokio::test]
async fn a_signed_out_visitor_gets_a_404_page_with_a_minimal_header() {
    let app = TestApp::spawn().await;

    let response = app.client().get("/no/such/page").await;

    assert_eq!(response.status(), 404);
    let page = response.text().await.unwrap();
    assert!(page.contains("There is nothing at this address."), "{page}");
    assert!(page.contains("class=\"brand\""), "{page}");
    assert!(!page.contains("Sign out") && !page.contains("href=\"/incidents\""), "{page}");
}
