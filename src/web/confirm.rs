//! The page that asks before something hard to undo is done. The page's
//! script asks in a dialog instead; without it, a Delete link leads here.

use askama::Template;

use super::PageCtx;

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub ctx: PageCtx,
    /// "Delete this event from the timeline?"
    pub question: String,
    /// What is about to go, as the reader knows it.
    pub detail: String,
    /// Where the confirming form posts.
    pub action: String,
    /// The button's label: "Delete the event".
    pub confirm: String,
    /// Where "Keep it" leads back to.
    pub back: String,
}
