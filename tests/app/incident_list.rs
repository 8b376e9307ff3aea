//! The incident list's layout.

use debrief::auth::domain::Role;

use crate::helpers::TestApp;

#[tokio::test]
async fn an_incident_reference_never_wraps_in_the_list() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;

    let list = client.get_text("/incidents").await;
    let dashboard = client.get_text("/").await;

    let cell = "<td class=\"incident-ref nowrap\"><a href=\"/incidents/INC-1\">INC-1</a></td>";
    assert!(list.contains(cell), "{list}");
    assert!(dashboard.contains(cell), "the dashboard's list is the same table: {dashboard}");
    let css = client.get_text("/static/css/app.css").await;
    assert!(css.contains(".incident-ref { white-space: nowrap; }"));
}
