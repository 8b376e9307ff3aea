//! The passage of a hit's text a results page shows, its matched words
//! marked: cut here, in the app, rather than by PostgreSQL's headline
//! function, which parses a whole document per hit and made a page of
//! twenty hits cost the database more than the search itself.
//!
//! A word matches when its English stem is one of the query's lexemes, as
//! PostgreSQL's `english` configuration stems them (both are Snowball's
//! English stemmer); a word holding a digit is matched as written, as that
//! configuration does.

use rust_stemmers::{Algorithm, Stemmer};

use super::{Piece, Snippet};

/// Words shown before the first match of a passage, and in all.
const BEFORE: usize = 8;
const WORDS: usize = 24;
/// Passages at most, joined by an ellipsis.
const PASSAGES: usize = 2;
/// The most of a text read for its passage, in bytes: a hit's matches are
/// nearly always early, and a reader needs one passage, not the last.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The lexemes a query's text search looks for, read from the query as
/// PostgreSQL prints it (`'leak' & !'redi' | 'connect' <-> 'pool'`);
/// excluded ones (`!`) are left out, since no passage shows them.
pub fn wanted_lexemes(query: &str) -> Vec<String> {
    let mut lexemes = Vec::new();
    let mut chars = query.chars().peekable();
    // `!` before a lexeme, or before a group: `!( 'connect' <-> 'pool' )`.
    let (mut negated, mut depth, mut negated_group) = (false, 0usize, None);
    while let Some(c) = chars.next() {
        match c {
            '!' => negated = true,
            '(' => {
                depth += 1;
                if negated && negated_group.is_none() {
                    negated_group = Some(depth);
                }
                negated = false;
            }
            ')' => {
                if negated_group == Some(depth) {
                    negated_group = None;
                }
                depth = depth.saturating_sub(1);
            }
            '\'' => {
                let mut lexeme = String::new();
                while let Some(c) = chars.next() {
                    if c == '\'' {
                        // A quote is written twice inside a lexeme.
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                            lexeme.push('\'');
                            continue;
                        }
                        break;
                    }
                    lexeme.push(c);
                }
                let excluded = negated || negated_group.is_some();
                if !excluded && !lexeme.is_empty() && !lexemes.contains(&lexeme) {
                    lexemes.push(lexeme);
                }
                negated = false;
            }
            ' ' => {}
            _ => negated = false,
        }
    }
    lexemes
}

/// A word of the text: where it is, and whether it matches.
struct Word {
    start: usize,
    end: usize,
    matched: bool,
}

/// The words of `text` (runs of letters, digits and `_`), each checked
/// against `lexemes`.
fn words(text: &str, lexemes: &[String], stemmer: &Stemmer) -> Vec<Word> {
    let mut words = Vec::new();
    let mut start = None;
    let mut lower = String::new();
    for (at, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        let in_word = c.is_alphanumeric() || c == '_';
        match (in_word, start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                start = None;
                let word = &text[from..at];
                lower.clear();
                lower.extend(word.chars().flat_map(char::to_lowercase));
                let matched = lexemes.iter().any(|lexeme| matches(&lower, lexeme, stemmer));
                words.push(Word { start: from, end: at, matched });
            }
            _ => {}
        }
    }
    words
}

/// Whether the lower-cased `word` stems to `lexeme`. Stemming only trims
/// or rewrites a word's end, so a word that does not begin as the lexeme
/// does (its first three characters) is not stemmed at all.
fn matches(word: &str, lexeme: &str, stemmer: &Stemmer) -> bool {
    if word == lexeme {
        return true;
    }
    let head: String = lexeme.chars().take(3).collect();
    if !word.starts_with(&head) || word.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    stemmer.stem(word) == lexeme
}

/// Up to two passages of `text` around its matches of `lexemes`, each
/// match marked; the text's opening words when nothing matches.
pub fn cut(text: &str, lexemes: &[String]) -> Snippet {
    let stemmer = Stemmer::create(Algorithm::English);
    let mut bound = text.len().min(MAX_TEXT_BYTES);
    while !text.is_char_boundary(bound) {
        bound -= 1;
    }
    let read = &text[..bound];
    let words = words(read, lexemes, &stemmer);
    let mut passages: Vec<(usize, usize)> = Vec::new();
    for (at, word) in words.iter().enumerate() {
        if !word.matched || passages.last().is_some_and(|(_, end)| at < *end) {
            continue;
        }
        if passages.len() == PASSAGES {
            break;
        }
        let first = at.saturating_sub(BEFORE).max(passages.last().map_or(0, |(_, end)| *end));
        passages.push((first, (first + WORDS).min(words.len())));
    }
    if passages.is_empty() && !words.is_empty() {
        passages.push((0, WORDS.min(words.len())));
    }
    let mut pieces: Vec<Piece> = Vec::new();
    for (n, (first, end)) in passages.iter().enumerate() {
        if n > 0 {
            push(&mut pieces, " … ", false);
        }
        // A passage at either end of the text keeps what is around its
        // words there (`<script>`'s brackets); one inside starts and ends
        // at a word.
        let mut from = if *first == 0 { 0 } else { words[*first].start };
        let to = if *end == words.len() { read.len() } else { words[end - 1].end };
        for word in &words[*first..*end] {
            if word.matched {
                push(&mut pieces, &read[from..word.start], false);
                push(&mut pieces, &read[word.start..word.end], true);
                from = word.end;
            }
        }
        push(&mut pieces, &read[from..to], false);
    }
    Snippet(pieces)
}

/// Adds `text` to the passage, its white space folded to single spaces
/// (a snippet reads as one line), joined to the last piece if alike.
fn push(pieces: &mut Vec<Piece>, text: &str, marked: bool) {
    let text = super::fold_spaces(text);
    if text.is_empty() {
        return;
    }
    match pieces.last_mut() {
        Some(last) if last.marked == marked => last.text.push_str(&text),
        _ => pieces.push(Piece { text, marked }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(snippet: &Snippet) -> Vec<(&str, bool)> {
        snippet.0.iter().map(|piece| (piece.text.as_str(), piece.marked)).collect()
    }

    #[test]
    fn lexemes_are_read_from_the_printed_query_without_excluded_ones() {
        let printed = "'goroutin' & 'leak' & !'redi' | 'connect' <-> 'pool' & 'o''brien':A";
        assert_eq!(wanted_lexemes(printed), ["goroutin", "leak", "connect", "pool", "o'brien"]);
        assert_eq!(wanted_lexemes("!( 'a' <-> 'b' ) & 'c' & !'d'"), ["c"]);
        assert_eq!(wanted_lexemes("( 'a' | 'b' ) & !( 'c' & ( 'd' ) ) & 'e'"), ["a", "b", "e"]);
    }

    #[test]
    fn words_are_matched_by_their_stem_and_marked_as_written() {
        let text = "The payments client Leaked goroutines; leaking went on.";
        let snippet = cut(text, &["leak".to_owned(), "goroutin".to_owned()]);
        assert_eq!(
            shown(&snippet),
            [
                ("The payments client ", false),
                ("Leaked", true),
                (" ", false),
                ("goroutines", true),
                ("; ", false),
                ("leaking", true),
                (" went on.", false),
            ]
        );
    }

    #[test]
    fn a_word_with_a_digit_matches_only_as_written() {
        let snippet = cut("http2 and http22 and HTTP2", &["http2".to_owned()]);
        let marked: Vec<&str> = snippet.0.iter().filter(|p| p.marked).map(|p| p.text.as_str()).collect();
        assert_eq!(marked, ["http2", "HTTP2"]);
    }

    #[test]
    fn a_long_text_shows_two_passages_around_its_matches() {
        let filler = |n: usize| (0..n).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        let text = format!("{} timeout {} timeout {} timeout end", filler(30), filler(40), filler(40));
        let snippet = cut(&text, &["timeout".to_owned()]);
        let marked = snippet.0.iter().filter(|p| p.marked).count();
        assert_eq!(marked, 2, "two passages, one match each");
        let text: String = snippet.0.iter().map(|p| p.text.as_str()).collect();
        assert!(text.starts_with("w22 "), "eight words lead up to the match: {text}");
        assert!(text.contains(" … "), "{text}");
        assert!(!text.contains("end"), "the third match is not shown: {text}");
    }

    #[test]
    fn nothing_matched_shows_the_opening_words_and_lines_fold() {
        let snippet = cut("First line\n\n  second   line", &["absent".to_owned()]);
        assert_eq!(shown(&snippet), [("First line second line", false)]);
        assert!(cut("", &["absent".to_owned()]).is_empty());
    }

    #[test]
    fn hostile_text_stays_text_for_the_page_to_escape() {
        let snippet = cut("<script>alert(1)</script> leaked & <b>x</b>", &["leak".to_owned()]);
        assert_eq!(
            snippet.html(),
            "&lt;script&gt;alert(1)&lt;/script&gt; <mark>leaked</mark> &amp; &lt;b&gt;x&lt;/b&gt;"
        );
    }

    #[test]
    fn a_text_past_the_bound_is_read_up_to_it_on_a_character_boundary() {
        let text = format!("{}é leak", "a".repeat(MAX_TEXT_BYTES - 1));
        let snippet = cut(&text, &["leak".to_owned()]);
        assert!(snippet.0.iter().all(|p| !p.marked), "the match past the bound is not read");
    }
}
