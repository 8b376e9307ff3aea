//! Markdown as people type it, rendered with pulldown-cmark and then
//! sanitised with ammonia before it reaches any page: no script, no event
//! handlers, no `javascript:` or `data:` URLs, no frames, no styles.

use std::{
    borrow::Cow,
    collections::{HashMap, HashSet},
    sync::{Arc, LazyLock, RwLock},
};

use ammonia::Builder;
use pulldown_cmark::{Options, Parser, html::push_html};

/// Renders and sanitises; the result is safe to put in a page unescaped.
/// Sanitising is the costly part of a page with hundreds of timeline
/// events, and the same texts are shown again and again: results are kept
/// in a bounded memo keyed by the text itself.
pub fn render(markdown: &str) -> String {
    if markdown.is_empty() {
        return String::new();
    }
    if markdown.len() > MEMO_MAX_TEXT {
        return render_uncached(markdown);
    }
    if let Some(html) = MEMO.read().ok().and_then(|memo| memo.get(markdown).cloned()) {
        return html.to_string();
    }
    let html = render_uncached(markdown);
    if let Ok(mut memo) = MEMO.write() {
        // Crude but bounded: start afresh when full.
        if memo.len() >= MEMO_MAX_ENTRIES {
            memo.clear();
        }
        memo.insert(markdown.to_owned(), Arc::from(html.as_str()));
    }
    html
}

const MEMO_MAX_ENTRIES: usize = 20_000;
const MEMO_MAX_TEXT: usize = 16 * 1024;

static MEMO: LazyLock<RwLock<HashMap<String, Arc<str>>>> = LazyLock::new(|| RwLock::new(HashMap::new()));

fn render_uncached(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES;
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    push_html(&mut html, Parser::new_ext(markdown, options));
    SANITIZER.clean(&html).to_string()
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
    use super::render;

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
    fn links_are_kept_but_cannot_reach_back_into_the_page() {
        let html = render("[runbook](https://wiki.example.com/runbook)");
        assert!(html.contains(r#"href="https://wiki.example.com/runbook""#), "{html}");
        assert!(html.contains(r#"rel="noopener noreferrer nofollow""#), "{html}");
    }
}
