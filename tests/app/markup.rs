//! The incident page is valid markup in read mode and in every edit mode:
//! ids unique, lists holding only list items, no form inside a form, no
//! link or button inside another, every end tag closing what it should,
//! and every label and in-page link pointing at something. The forms the
//! script opens in place bring no id the page already has.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
};

use debrief::{auth::domain::NewPassword, demo::load::load_demo};
use html5ever::{
    tendril::StrTendril,
    tokenizer::{
        BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts, states::RawKind,
    },
};

use crate::helpers::{Client, TestApp};

const VOID: [&str; 13] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"];

/// What the checker read of a page.
#[derive(Debug, Default)]
struct Reading {
    problems: Vec<String>,
    /// Every id, with how often it appears.
    ids: BTreeMap<String, usize>,
    /// The ids inside the first `form.form` of `<main>`: an edit page's form.
    form_ids: BTreeSet<String>,
    /// The links of class `edit-link` marked to open in place.
    inline_links: Vec<String>,
}

#[derive(Default)]
struct Checker {
    stack: RefCell<Vec<String>>,
    reading: RefCell<Reading>,
    /// Ids a label, an in-page link or an aria attribute points at.
    pointed_at: RefCell<Vec<(String, String)>>,
    /// The stack depth of the edit form being read, while it is open.
    in_form: RefCell<Option<usize>>,
    form_seen: RefCell<bool>,
}

impl Checker {
    fn problem(&self, line: u64, message: String) {
        self.reading.borrow_mut().problems.push(format!("line {line}: {message}"));
    }

    fn start(&self, tag: &html5ever::tokenizer::Tag, line: u64) -> TokenSinkResult<()> {
        let name = tag.name.to_string();
        let attr =
            |wanted: &str| tag.attrs.iter().find(|a| &*a.name.local == wanted).map(|a| a.value.to_string());
        if tag.had_duplicate_attributes {
            self.problem(line, format!("<{name}> repeats an attribute"));
        }
        {
            let stack = self.stack.borrow();
            let parent = stack.last().map(String::as_str);
            if matches!(parent, Some("ul" | "ol")) && !matches!(name.as_str(), "li" | "script" | "template") {
                self.problem(line, format!("<{name}> directly inside <{}>", parent.unwrap_or_default()));
            }
            if name == "li" && !matches!(parent, Some("ul" | "ol" | "menu")) {
                self.problem(line, format!("<li> inside <{}>, not a list", parent.unwrap_or("nothing")));
            }
            if name == "form" && stack.iter().any(|open| open == "form") {
                self.problem(line, "a form inside a form".into());
            }
            if matches!(name.as_str(), "a" | "button")
                && let Some(outer) = stack.iter().rev().find(|open| matches!(open.as_str(), "a" | "button"))
            {
                self.problem(line, format!("<{name}> inside <{outer}>"));
            }
        }
        let mut reading = self.reading.borrow_mut();
        if let Some(id) = attr("id") {
            if id.is_empty() || id.contains(char::is_whitespace) {
                reading.problems.push(format!("line {line}: <{name}> has the id {id:?}"));
            }
            *reading.ids.entry(id.clone()).or_default() += 1;
            if self.in_form.borrow().is_some() {
                reading.form_ids.insert(id);
            }
        }
        if name == "label"
            && let Some(target) = attr("for")
        {
            self.pointed_at.borrow_mut().push((target, format!("line {line}: <label for>")));
        }
        for aria in ["aria-labelledby", "aria-describedby", "aria-controls"] {
            for target in attr(aria).unwrap_or_default().split_whitespace() {
                self.pointed_at.borrow_mut().push((target.to_owned(), format!("line {line}: {aria}")));
            }
        }
        if name == "a"
            && let Some(href) = attr("href")
        {
            if let Some(target) = href.strip_prefix('#').filter(|target| !target.is_empty()) {
                self.pointed_at
                    .borrow_mut()
                    .push((target.to_owned(), format!("line {line}: link to #{target}")));
            }
            let classes = attr("class").unwrap_or_default();
            if classes.split_whitespace().any(|class| class == "edit-link") && attr("data-inline").is_some() {
                reading.inline_links.push(href);
            }
        }
        drop(reading);
        if name == "form"
            && !*self.form_seen.borrow()
            && attr("class").is_some_and(|classes| classes.split_whitespace().any(|class| class == "form"))
            && self.stack.borrow().iter().any(|open| open == "main")
        {
            *self.form_seen.borrow_mut() = true;
            *self.in_form.borrow_mut() = Some(self.stack.borrow().len());
        }
        if VOID.contains(&name.as_str()) {
            return TokenSinkResult::Continue;
        }
        if tag.self_closing {
            self.problem(line, format!("<{name}/> is not a void element"));
        }
        self.stack.borrow_mut().push(name.clone());
        match name.as_str() {
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" => TokenSinkResult::RawData(RawKind::Rawtext),
            "textarea" | "title" => TokenSinkResult::RawData(RawKind::Rcdata),
            _ => TokenSinkResult::Continue,
        }
    }

    fn end(&self, name: &str, line: u64) {
        if VOID.contains(&name) {
            return;
        }
        let mut stack = self.stack.borrow_mut();
        match stack.iter().rposition(|open| open == name) {
            Some(at) => {
                for unclosed in &stack[at + 1..] {
                    self.reading
                        .borrow_mut()
                        .problems
                        .push(format!("line {line}: <{unclosed}> left open by </{name}>"));
                }
                stack.truncate(at);
                let mut in_form = self.in_form.borrow_mut();
                if in_form.is_some_and(|depth| stack.len() <= depth) {
                    *in_form = None;
                }
            }
            None => self.reading.borrow_mut().problems.push(format!("line {line}: </{name}> closes nothing")),
        }
    }
}

impl TokenSink for Checker {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => match tag.kind {
                TagKind::StartTag => return self.start(&tag, line),
                TagKind::EndTag => self.end(&tag.name, line),
            },
            Token::ParseError(error) => self.problem(line, format!("parse error: {error}")),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// Reads `html` and says what is wrong with it.
fn check(html: &str) -> Reading {
    let tokenizer = Tokenizer::new(Checker::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let checker = tokenizer.sink;
    let mut reading = checker.reading.into_inner();
    for open in checker.stack.into_inner() {
        reading.problems.push(format!("<{open}> never closed"));
    }
    for (id, count) in &reading.ids {
        if *count > 1 {
            reading.problems.push(format!("the id {id:?} is used {count} times"));
        }
    }
    for (target, from) in checker.pointed_at.into_inner() {
        if !reading.ids.contains_key(&target) {
            reading.problems.push(format!("{from} points at #{target}, which is not on the page"));
        }
    }
    reading
}

fn assert_valid(what: &str, html: &str) -> Reading {
    let reading = check(html);
    assert!(reading.problems.is_empty(), "{what}:\n{}", reading.problems.join("\n"));
    reading
}

async fn demo_editor(app: &TestApp) -> Client {
    let password = "demo password for tests";
    load_demo(&app.pool, &app.store(), &NewPassword::parse(password, None).unwrap()).await.unwrap();
    let client = app.client();
    assert_eq!(client.login("bo@demo.debrief.dev", password).await.status(), 303);
    client
}

/// The page as `client` sees it after switching to `mode` (`all`, a
/// part's key, `off`).
async fn page_in_mode(client: &Client, page: &str, mode: &str) -> String {
    let switched = client.get(&format!("{page}?edit={mode}")).await;
    assert_eq!(switched.status(), 303, "{page}?edit={mode} switches and goes back to the page");
    let html = client.get_text(page).await;
    assert!(html.contains("<article"), "{page} is the incident page");
    html
}

#[tokio::test]
async fn the_incident_page_is_valid_markup_in_read_mode_and_in_every_edit_mode() {
    let app = TestApp::spawn().await;
    let editor = demo_editor(&app).await;
    let (_, viewer) = app.signed_in(debrief::auth::domain::Role::Viewer).await;

    for number in [1, 8, 12] {
        let page = format!("/incidents/INC-{number}");
        let read = assert_valid(&format!("{page} read by a viewer"), &viewer.get_text(&page).await);
        assert!(read.ids.len() > 5 && read.inline_links.is_empty(), "{page} is read: {read:?}");
        assert_valid(&format!("{page} read by an editor"), &page_in_mode(&editor, &page, "off").await);
        let editing =
            assert_valid(&format!("{page} edited whole"), &page_in_mode(&editor, &page, "all").await);
        assert!(editing.inline_links.len() > 10, "{page} offers its edits: {:?}", editing.inline_links);
        for part in
            ["details", "milestones", "impact", "timeline", "evidence", "causes", "action-items", "lessons"]
        {
            let html = page_in_mode(&editor, &page, part).await;
            assert_valid(&format!("{page} with {part} edited"), &html);
            assert!(html.contains("data-mode=\"edit\""), "{page} with {part} edited is in edit mode");
        }
    }
}

#[tokio::test]
async fn a_form_opened_in_place_brings_no_id_the_page_already_has() {
    let app = TestApp::spawn().await;
    let editor = demo_editor(&app).await;
    let page = assert_valid("INC-1 edited whole", &page_in_mode(&editor, "/incidents/INC-1", "all").await);

    let mut checked = 0;
    for link in &page.inline_links {
        let edit_page = assert_valid(link, &editor.get_text(link).await);
        assert!(!edit_page.form_ids.is_empty() || link.contains("/delete"), "{link} has a form with fields");
        let clashing: Vec<&String> =
            edit_page.form_ids.iter().filter(|id| page.ids.contains_key(*id)).collect();
        assert!(clashing.is_empty(), "the form of {link} repeats ids of the page: {clashing:?}");
        checked += 1;
    }
    assert!(checked > 10, "{checked} forms checked");
}

#[test]
fn the_checker_finds_what_is_wrong() {
    let problems = |html: &str| check(html).problems;
    assert!(problems("<ul><li>a</li></ul><p id=x>b</p><label for=x>c</label><a href='#x'>d</a>").is_empty());
    assert!(problems("<p id=a></p><p id=a></p>")[0].contains("\"a\" is used 2 times"));
    assert!(problems("<ul><div>x</div></ul>")[0].contains("<div> directly inside <ul>"));
    assert!(problems("<div><li>x</li></div>")[0].contains("<li> inside <div>"));
    assert!(problems("<form><div><form></form></div></form>")[0].contains("a form inside a form"));
    assert!(problems("<a href=/x><button>y</button></a>")[0].contains("<button> inside <a>"));
    assert!(problems("<section><div></section>")[0].contains("<div> left open by </section>"));
    assert!(problems("<p></div></p>")[0].contains("</div> closes nothing"));
    assert!(problems("<main>")[0].contains("<main> never closed"));
    assert!(problems("<label for=nowhere>x</label>")[0].contains("points at #nowhere"));
    assert!(problems("<a href='#gone'>x</a>")[0].contains("points at #gone"));
    assert!(
        problems("<p class=a class=b>x</p>").iter().any(|problem| problem.contains("repeats an attribute"))
    );
    // A script's text and a textarea's are text, not markup.
    assert!(problems("<textarea><ul><div></textarea><script>if (a<b) {}</script>").is_empty());
}

#[test]
fn the_checker_reads_an_edit_pages_form_and_the_links_that_open_in_place() {
    let reading = check(
        "<main><form class=form><input id=one><div><input id=two></div></form><input id=three>\
         <a class='edit-link' data-inline href='/e/1'>Edit</a><a class=edit-link href='/e/2'>Edit</a></main>",
    );
    assert!(reading.problems.is_empty(), "{:?}", reading.problems);
    assert_eq!(reading.form_ids, BTreeSet::from(["one".to_owned(), "two".to_owned()]));
    assert_eq!(reading.inline_links, ["/e/1"]);
}
