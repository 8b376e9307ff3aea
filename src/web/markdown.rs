//! Markdown as people type it, rendered with pulldown-cmark and then
//! sanitised with ammonia before it reaches any page: no script, no event
//! handlers, no `javascript:` or `data:` URLs, no frames, no styles.
//!
//! Sanitising costs time with the square of how deeply the HTML nests
//! (50,000 nested quotes took 11 s), so Markdown nested deeper than any
//! document needs is refused when it is saved ([`accept`]), and text that
//! got in before that is shown as plain text rather than rendered.

use std::{
    borrow::Cow,
    collections::{HashMap, HashSet},
    sync::{Arc, LazyLock, RwLock},
};

use ammonia::Builder;
use pulldown_cmark::{Event, Options, Parser, html::push_html};

/// The most characters one Markdown text may have.
pub const MAX_CHARS: usize = 100_000;

/// How deeply Markdown may nest (quotes in lists in quotes, emphasis in
/// links...): far more than any document needs, far less than what makes
/// sanitising slow.
pub const MAX_NESTING: usize = 64;

/// A Markdown text as typed, fit to store: within [`MAX_CHARS`] and
/// [`MAX_NESTING`], with Windows line ends made plain. `what` names the
/// field in the message.
pub fn accept(raw: &str, what: &str) -> Result<String, String> {
    if raw.chars().count() > MAX_CHARS {
        return Err(format!("The {what} has at most {MAX_CHARS} characters."));
    }
    if nesting(raw) > MAX_NESTING {
        return Err(format!(
            "The {what} nests quotes, lists or emphasis more than {MAX_NESTING} levels deep; flatten it."
        ));
    }
    Ok(raw.replace("\r\n", "\n"))
}

/// How deeply the text's Markdown nests. Parsing alone takes time in
/// proportion to the text, whatever its shape.
fn nesting(markdown: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(_) => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Renders and sanitises; the result is safe to put in a page unescaped.
/// Sanitising is the costly part of a page with hundreds of timeline
/// events, and the same texts are shown again and again, to every reader:
/// results are kept in a memo bounded in bytes, keyed by the text itself.
pub fn render(markdown: &str) -> String {
    if markdown.is_empty() {
        return String::new();
    }
    if let Some(html) = MEMO.read().ok().and_then(|memo| memo.texts.get(markdown).cloned()) {
        return html.to_string();
    }
    let html = render_uncached(markdown);
    if let Ok(mut memo) = MEMO.write() {
        let bytes = markdown.len() + html.len();
        // Crude but bounded: start afresh when full.
        if memo.texts.len() >= MEMO_MAX_ENTRIES || memo.bytes + bytes > MEMO_MAX_BYTES {
            memo.texts.clear();
            memo.bytes = 0;
        }
        if bytes <= MEMO_MAX_BYTES / 8 && !memo.texts.contains_key(markdown) {
            memo.texts.insert(markdown.to_owned(), Arc::from(html.as_str()));
            memo.bytes += bytes;
        }
    }
    html
}

/// Renders a one-line text (a why of a cause) for use inside a line of the
/// page: like [`render`], without the paragraph around it.
pub fn render_inline(markdown: &str) -> String {
    let html = render(markdown);
    let trimmed = html.trim_end();
    match trimmed.strip_prefix("<p>").and_then(|inner| inner.strip_suffix("</p>")) {
        Some(inner) if !inner.contains("<p>") => inner.to_owned(),
        _ => html,
    }
}

const MEMO_MAX_ENTRIES: usize = 20_000;
const MEMO_MAX_BYTES: usize = 48 * 1024 * 1024;

#[derive(Default)]
struct Memo {
    texts: HashMap<String, Arc<str>>,
    bytes: usize,
}

static MEMO: LazyLock<RwLock<Memo>> = LazyLock::new(|| RwLock::new(Memo::default()));

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
}

fn render_uncached(markdown: &str) -> String {
    if nesting(markdown) > MAX_NESTING {
        // Saved before the limit: shown as typed, not rendered.
        let mut html = String::from("<pre class=\"markdown-unrendered\">");
        html.push_str(&escape_html(markdown));
        html.push_str("</pre>");
        return html;
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    push_html(&mut html, Parser::new_ext(markdown, options()));
    SANITIZER.clean(&html).to_string()
}

/// Text safe in HTML content and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The allow-list: what Markdown produces, and nothing that runs.
static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::default();
    builder
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("ol", ["start"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .add_generic_attributes(["id"])
        // User ids cannot clobber the page's own.
        .id_prefix(Some("md-"))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            // Task-list boxes only, shown ticked or not, never editable.
            ("input", "type") => (value == "checkbox").then_some(Cow::Borrowed(value)),
            // Footnote links follow the prefixed ids.
            ("a", "href") if value.starts_with('#') => Some(Cow::Owned(format!("#md-{}", &value[1..]))),
            // Table alignment is the only style kept.
            ("th" | "td", "style") => {
                matches!(value, "text-align: left" | "text-align: center" | "text-align: right")
                    .then_some(Cow::Borrowed(value))
            }
            _ => Some(Cow::Borrowed(value)),
        });
    builder
});

#[cfg(test)]
mod tests {
    use super::{render, render_inline};

    #[test]
    fn an_inline_text_renders_its_markdown_without_a_paragraph() {
        assert_eq!(
            render_inline("the `http.Client` had no timeout"),
            "the <code>http.Client</code> had no timeout"
        );
        assert!(!render_inline("<script>x</script> **bold**").contains("<script"));
        assert!(render_inline("one\n\ntwo").contains("<p>two</p>"));
    }

    #[test]
    fn common_markdown_renders() {
        let html = render("# Title\n\n**bold** ~~gone~~ `code`\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>") && html.contains("<del>gone</del>"), "{html}");
        assert!(html.contains("<table>") && html.contains("text-align: right"), "{html}");
    }

    #[test]
    fn task_lists_are_inert_checkboxes() {
        let html = render("- [x] done\n- [ ] todo\n");
        let items: Vec<&str> = html.split("<li>").skip(1).collect();
        assert_eq!(items.len(), 2, "{html}");
        for item in &items {
            assert!(item.contains(r#"type="checkbox""#) && item.contains(r#"disabled="""#), "{html}");
        }
        assert!(items[0].contains(r#"checked="""#) && !items[1].contains("checked"), "{html}");
    }

    #[test]
    fn code_blocks_keep_their_whitespace() {
        let html = render("```\ngoroutine 1 [IO wait]:\n    net/http.(*persistConn).readLoop\n```\n");
        assert!(
            html.contains(
                "<pre><code>goroutine 1 [IO wait]:\n    net/http.(*persistConn).readLoop\n</code></pre>"
            ),
            "{html}"
        );
    }

    #[test]
    fn footnotes_link_to_their_definitions() {
        let html = render("Leak[^1].\n\n[^1]: Found with pprof.\n");
        assert!(html.contains(r##"href="#md-1""##) && html.contains(r#"id="md-1""#), "{html}");
    }

    #[test]
    fn nothing_that_runs_survives() {
        let hostile = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "![x](data:text/html;base64,PHNjcmlwdD4=)",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<svg onload=alert(1)>",
            "<input type=\"text\" onfocus=\"alert(1)\" autofocus>",
            "<form action=\"https://evil.example\"><button>x</button></form>",
        ];
        for input in hostile {
            let html = render(input).to_lowercase();
            for banned in [
                "<script",
                "onerror",
                "onload",
                "onfocus",
                "javascript:",
                "data:",
                "<iframe",
                "style=\"background",
                "<svg",
                "<form",
                "type=\"text\"",
            ] {
                assert!(!html.contains(banned), "{input:?} left {banned:?} in {html:?}");
            }
        }
    }

    #[test]
    fn pathological_nesting_is_refused_and_ordinary_nesting_is_not() {
        for hostile in [">".repeat(50_000) + " x", "- ".repeat(33_000) + "x", "1. ".repeat(30_000) + "x"] {
            let err = super::accept(&hostile, "summary").unwrap_err();
            assert!(err.contains("summary") && err.contains("levels deep"), "{err}");
        }
        let nested_list =
            (0..8).map(|depth| format!("{}- level {depth}\n", "  ".repeat(depth))).collect::<String>();
        let quoted =
            "> > > a quote of a quote of a quote with **bold _and italic_ [link](https://x.example)**\n";
        for fine in [nested_list.as_str(), quoted, "plain"] {
            assert!(super::accept(fine, "summary").is_ok(), "{fine:?}");
        }
        assert_eq!(super::accept("a\r\nb", "summary").unwrap(), "a\nb");
        assert!(super::accept(&"x".repeat(super::MAX_CHARS + 1), "summary").is_err());
    }

    #[test]
    fn deep_text_saved_before_the_limit_is_shown_as_text_not_rendered() {
        let deep = ">".repeat(5_000) + " <b>x</b>";
        let html = render(&deep);
        assert!(html.starts_with("<pre class=\"markdown-unrendered\">&gt;&gt;"), "{}", &html[..60]);
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;") && !html.contains("<b>"));
    }

    #[test]
    fn a_large_text_is_rendered_once_for_every_reader() {
        let large = "A long **resolution** paragraph.\n\n".repeat(3_000);
        assert!(large.len() > 64 * 1024);
        let first = render(&large);
        let kept = super::MEMO.read().unwrap().texts.get(&large).cloned().expect("kept in the memo");
        assert_eq!(&*kept, first.as_str());
        assert_eq!(render(&large), first);
    }

    #[test]
    fn links_are_kept_but_cannot_reach_back_into_the_page() {
        let html = render("[runbook](https://wiki.example.com/runbook)");
        assert!(html.contains(r#"href="https://wiki.example.com/runbook""#), "{html}");
        assert!(html.contains(r#"rel="noopener noreferrer nofollow""#), "{html}");
    }
}
