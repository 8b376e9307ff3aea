//! The blameless-language rules: wording that blames a person, found in
//! Markdown as people write it, each with a suggestion in system terms.
//! Pure functions of the text: no I/O, so the editor's script, a save and
//! the API all get the same notes, and the rules can be measured on a
//! labelled set of sentences.
//!
//! What is quoted is not the writer's wording and is never flagged: code
//! spans, code blocks and block quotes (alerts, logs, messages).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

/// One note: where (in characters, from 0), which rule, why, and what to
/// write instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = WordingNote)]
pub struct Note {
    pub start: usize,
    pub end: usize,
    pub rule: String,
    pub message: String,
    pub suggestion: String,
}

/// The built-in rules, by key: what each notes, and what it suggests.
pub const BUILT_IN: [(&str, &str, &str); 6] = [
    (
        PERSON_FAILURE,
        "A person is the subject of a failure.",
        "Describe what the system let happen: the step, the check or the safeguard that was missing.",
    ),
    (
        HUMAN_ERROR,
        "\u{201c}Human error\u{201d} names a person, not a cause.",
        "Name the condition that made the error easy to make and hard to catch.",
    ),
    (
        COUNTERFACTUAL,
        "A counterfactual judges what someone should have done.",
        "Say what happened and what would make the right action the easy one next time.",
    ),
    (
        FAILED_TO,
        "\u{201c}Failed to\u{201d} with a person as subject assigns blame.",
        "Say what did not happen and why the system did not prompt or catch it.",
    ),
    (
        JUDGEMENT,
        "A judgement of people or their work.",
        "Leave out the judgement and describe what was done and what it led to.",
    ),
    (
        MINIMISING,
        "\u{201c}Just\u{201d} or \u{201c}simply\u{201d} makes a hard thing sound easy, and the person who missed it careless.",
        "Leave the word out, or say what made it hard.",
    ),
];

pub const PERSON_FAILURE: &str = "person-failure";
pub const HUMAN_ERROR: &str = "human-error";
pub const COUNTERFACTUAL: &str = "counterfactual";
pub const FAILED_TO: &str = "failed-to";
pub const JUDGEMENT: &str = "judgement";
pub const MINIMISING: &str = "minimising";

/// A phrase an admin added: flagged wherever it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRule {
    pub key: String,
    pub phrase: String,
    pub message: String,
    pub suggestion: String,
}

/// What to check with: the built-in rules switched on, the admins'
/// phrases, and the people the app knows (their names as written).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub disabled: Vec<String>,
    pub custom: Vec<CustomRule>,
    pub people: Vec<String>,
}

/// The most characters checked: a longer text is checked up to here.
pub const MAX_CHECKED_CHARS: usize = 100_000;

/// The notes on `text`, in order.
pub fn check(text: &str, rules: &Rules) -> Vec<Note> {
    let mut end = text.len().min(MAX_CHECKED_CHARS * 4);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    let prose = mask_quoted(text);
    let words = words(&prose);
    let names = Names::new(&rules.people);
    let mut found: Vec<(usize, usize, &str)> = Vec::new();
    for clause in clauses(&prose, &words) {
        find_in_clause(&prose, clause, &names, &mut found);
    }
    let mut notes: Vec<Note> = Vec::new();
    found.sort_by_key(|(start, end, _)| (*start, std::cmp::Reverse(*end)));
    for (start, end, key) in found {
        if rules.disabled.iter().any(|disabled| disabled == key) {
            continue;
        }
        let Some((_, message, suggestion)) = BUILT_IN.iter().find(|(k, _, _)| *k == key) else { continue };
        push(&mut notes, text, (start, end), key, message, suggestion);
    }
    for rule in &rules.custom {
        for (start, end) in phrase_matches(&prose, &rule.phrase) {
            push(&mut notes, text, (start, end), &rule.key, &rule.message, &rule.suggestion);
        }
    }
    notes.sort_by_key(|note| (note.start, note.end));
    notes
}

/// Adds a note over the bytes `start..end` unless one already covers them.
fn push(
    notes: &mut Vec<Note>,
    text: &str,
    (start, end): (usize, usize),
    rule: &str,
    message: &str,
    suggestion: &str,
) {
    let (start, end) = (text[..start].chars().count(), text[..end].chars().count());
    if notes.iter().any(|note| note.start <= start && end <= note.end) {
        return;
    }
    notes.push(Note {
        start,
        end,
        rule: rule.to_owned(),
        message: message.to_owned(),
        suggestion: suggestion.to_owned(),
    });
}

/// `text` with what it quotes blanked out, byte for byte, so offsets stay.
fn mask_quoted(text: &str) -> String {
    let mut masked = text.as_bytes().to_vec();
    let mut blank = |range: std::ops::Range<usize>| {
        for byte in &mut masked[range] {
            // Keep line ends, so sentences and lines stay apart.
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    };
    let mut quoted_from: Option<usize> = None;
    let mut depth = 0usize;
    for (event, range) in Parser::new_ext(text, Options::empty()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_) | Tag::BlockQuote(_) | Tag::HtmlBlock) => {
                if depth == 0 {
                    quoted_from = Some(range.start);
                }
                depth += 1;
            }
            Event::End(TagEnd::CodeBlock | TagEnd::BlockQuote(_) | TagEnd::HtmlBlock) => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some(from) = quoted_from.take()
                {
                    blank(from..range.end);
                }
            }
            Event::Code(_) | Event::InlineHtml(_) | Event::Html(_) => blank(range),
            _ => {}
        }
    }
    // Quoted speech and quoted log lines are someone else's words.
    let bytes = masked.clone();
    let mut open: Option<usize> = None;
    for (at, byte) in bytes.iter().enumerate() {
        if *byte == b'"' {
            match open.take() {
                Some(from) => {
                    for b in &mut masked[from..=at] {
                        *b = b' ';
                    }
                }
                None => open = Some(at),
            }
        } else if *byte == b'\n' {
            open = None;
        }
    }
    String::from_utf8(masked).unwrap_or_else(|_| text.to_owned())
}

/// A word of the text: where it is, and its lower-case form.
#[derive(Debug, Clone)]
struct Word {
    start: usize,
    end: usize,
    lower: String,
    /// As written: for telling a name from a word.
    raw: String,
}

fn words(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    for (at, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        let in_word = c.is_alphanumeric() || c == '\'' || c == '\u{2019}' || c == '-' || c == '_';
        match (in_word, start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                start = None;
                let raw = text[from..at].trim_end_matches(['\'', '\u{2019}', '-']).to_owned();
                if !raw.is_empty() {
                    words.push(Word { start: from, end: from + raw.len(), lower: raw.to_lowercase(), raw });
                }
            }
            _ => {}
        }
    }
    words
}

/// The most words one clause holds.
const MAX_CLAUSE_WORDS: usize = 60;

/// A clause: a run of words not broken by a sentence's or clause's end.
type Clause<'a> = &'a [Word];

fn clauses<'a>(text: &str, words: &'a [Word]) -> Vec<Clause<'a>> {
    let mut clauses = Vec::new();
    let mut from = 0;
    for i in 0..words.len() {
        let last = i + 1 == words.len();
        let gap = if last { &text[words[i].end..] } else { &text[words[i].end..words[i + 1].start] };
        let ends = gap.contains(['.', '!', '?', ';', ':', '\n'])
            || (gap.contains(',') && next_starts_clause(words, i + 1));
        // No sentence runs this long: a text that does is cut into clauses
        // of this many words, so no word is read again more than so often.
        let long = i + 1 - from >= MAX_CLAUSE_WORDS;
        if ends || last || long {
            clauses.push(&words[from..=i]);
            from = i + 1;
        }
    }
    clauses
}

/// Whether the word at `i` starts a new clause after a comma.
fn next_starts_clause(words: &[Word], i: usize) -> bool {
    words.get(i).is_some_and(|word| {
        matches!(
            word.lower.as_str(),
            "which" | "so" | "but" | "and" | "while" | "although" | "because" | "then" | "when"
        )
    })
}

/// The people a text may name: the app's users, and common first names.
struct Names {
    known: Vec<String>,
}

impl Names {
    fn new(people: &[String]) -> Names {
        let mut known: Vec<String> = Vec::new();
        for person in people {
            for part in person.split_whitespace() {
                let part = part.to_lowercase();
                if part.chars().count() >= 2 && !known.contains(&part) {
                    known.push(part);
                }
            }
        }
        Names { known }
    }

    /// Whether `word` (as written) names a person.
    fn is_person(&self, word: &Word) -> bool {
        let capitalised = word.raw.chars().next().is_some_and(char::is_uppercase)
            && word.raw.chars().skip(1).all(|c| c.is_lowercase() || c == '\'' || c == '\u{2019}');
        let bare = word.lower.trim_end_matches("'s").trim_end_matches("\u{2019}s");
        capitalised && (self.known.iter().any(|name| name == bare) || FIRST_NAMES.contains(&bare))
    }
}

/// Words that stand for people as the subject of a sentence.
const PERSON_NOUNS: [&str; 24] = [
    "someone",
    "somebody",
    "nobody",
    "anyone",
    "anybody",
    "everyone",
    "whoever",
    "he",
    "she",
    "they",
    "we",
    "i",
    "engineer",
    "engineers",
    "developer",
    "developers",
    "reviewer",
    "reviewers",
    "author",
    "responders",
    "people",
    "on-call",
    "team",
    "ops",
];

/// Words that may sit between a subject and its verb.
const BETWEEN: [&str; 12] = [
    "also",
    "again",
    "then",
    "still",
    "clearly",
    "obviously",
    "simply",
    "just",
    "repeatedly",
    "never",
    "entirely",
    "later",
];

/// Verbs that, with a person as subject, say they failed.
const FAILURE_VERBS: [&str; 34] = [
    "forgot",
    "forget",
    "forgets",
    "broke",
    "missed",
    "ignored",
    "ignore",
    "misconfigured",
    "misread",
    "messed",
    "screwed",
    "neglected",
    "overlooked",
    "skipped",
    "deleted",
    "dropped",
    "blew",
    "botched",
    "fat-fingered",
    "mistyped",
    "didn't",
    "did",
    "never",
    "left",
    "caused",
    "took",
    "brought",
    "rushed",
    "clicked",
    "failed",
    "pushed",
    "merged",
    "approved",
    "went",
];

/// Words that make an ordinary action a faulty one.
const FAULT_WORDS: [&str; 22] = [
    "wrong",
    "bad",
    "broken",
    "without",
    "mistake",
    "mistakes",
    "typo",
    "accidentally",
    "mistakenly",
    "untested",
    "carelessly",
    "late",
    "sleep",
    "early",
    "fault",
    "error",
    "down",
    "away",
    "blame",
    "wrongly",
    "instead",
    "anyway",
];

fn find_in_clause(
    text: &str,
    clause: Clause<'_>,
    names: &Names,
    found: &mut Vec<(usize, usize, &'static str)>,
) {
    let at = |i: usize| clause.get(i).map_or("", |w| w.lower.as_str());
    for (i, word) in clause.iter().enumerate() {
        let w = word.lower.as_str();
        // "human error", "operator error", "user error".
        if matches!(w, "human" | "operator" | "user") && matches!(at(i + 1), "error" | "errors") {
            let negated = (i >= 1 && matches!(at(i - 1), "not" | "no")) || (i >= 2 && at(i - 2) == "not");
            // A Kubernetes operator's errors, errors users make in a form or an
            // API's "user error" responses are software's words, not blame.
            let logged = at(i + 2) == "in"
                && clause[i + 2..]
                    .iter()
                    .take(5)
                    .any(|w| matches!(w.lower.as_str(), "logs" | "log" | "output" | "messages"));
            let about_software = w != "human"
                && (i >= 1 && matches!(at(i - 1), "kubernetes" | "crd")
                    || w == "user" && at(i + 1) == "errors"
                    || matches!(at(i + 2), "type" | "for" | "http")
                    || logged);
            if !negated && !about_software {
                found.push((word.start, clause[i + 1].end, HUMAN_ERROR));
            }
        }
        // Judgement words.
        if is_judgement(w) && !(i >= 1 && at(i - 1) == "not") {
            found.push((word.start, word.end, JUDGEMENT));
        }
    }
    // Who the clause is about, and where its verb starts.
    let (subject, verb) = subject_of(clause, names);
    let person = subject.is_some();
    for (i, word) in clause.iter().enumerate() {
        let w = word.lower.as_str();
        if matches!(w, "just" | "simply")
            && person
            && i >= verb.unwrap_or(usize::MAX).min(i)
            && minimising(clause, i)
        {
            found.push((word.start, word.end, MINIMISING));
        }
        // "should have checked", "could have caught", "should never have".
        if matches!(w, "should" | "could" | "ought") {
            let mut j = i + 1;
            while matches!(at(j), "to" | "never" | "not" | "just") {
                j += 1;
            }
            let mut p = j + 1;
            while matches!(at(p), "just" | "simply" | "easily" | "already" | "clearly") {
                p += 1;
            }
            if at(j) == "have" && is_participle(at(p)) {
                let about_people = person || w == "should" && !system_subject(clause, i);
                // "Instead of asking who should have caught this": the question set aside.
                let asked = i >= 1 && at(i - 1) == "who";
                if about_people && !asked && !looks_ahead(clause, p) {
                    found.push((word.start, clause[p].end, COUNTERFACTUAL));
                }
            }
        }
        // "Anyone paying attention would have noticed".
        if w == "would"
            && at(i + 1) == "have"
            && is_participle(at(i + 2))
            && clause[..i].iter().any(|w| {
                matches!(w.lower.as_str(), "anyone" | "anybody" | "someone" | "somebody" | "everyone")
            })
        {
            found.push((word.start, clause[i + 2].end, COUNTERFACTUAL));
        }
        // "failed to notice", with a person as subject.
        if w == "failed" && at(i + 1) == "to" && person {
            found.push((word.start, clause[i + 1].end, FAILED_TO));
        }
        // "if only someone had", "had we tested", "had Chen waited".
        if w == "if" && at(i + 1) == "only" && i + 2 < clause.len() {
            let next = &clause[i + 2];
            if names.is_person(next)
                || PERSON_NOUNS.contains(&next.lower.as_str())
                || next.lower == "the" && person_phrase(clause, i + 2).is_some()
            {
                found.push((word.start, clause[i + 1].end, COUNTERFACTUAL));
            }
        }
        if w == "had" && (i == 0 || clause_starts_sentence(text, clause, i)) && i + 1 < clause.len() {
            let next = &clause[i + 1];
            let who = names.is_person(next)
                || matches!(
                    next.lower.as_str(),
                    "we" | "they" | "he" | "she" | "anyone" | "someone" | "i" | "you"
                )
                || next.lower == "the" && person_phrase(clause, i + 1).is_some();
            let not = matches!(at(i + 2), "not" | "never");
            if who && !not {
                found.push((word.start, next.end, COUNTERFACTUAL));
            }
        }
    }
    // A person as the subject of a failure.
    if let (Some((from, to)), Some(verb)) = (subject, verb)
        && failure_after(clause, verb, names)
    {
        found.push((clause[from].start, clause[to].end, PERSON_FAILURE));
    }
    // "Bo's fault", "Lena's bad merge", "a typo by Dmitri".
    for (i, word) in clause.iter().enumerate() {
        let possessive = word.lower.ends_with("'s") || word.lower.ends_with("\u{2019}s");
        if possessive
            && names.is_person(word)
            && clause.get(i + 1).is_some_and(|next| {
                FAULT_NOUNS.contains(&next.lower.as_str())
                    || is_judgement(&next.lower)
                    || matches!(next.lower.as_str(), "bad" | "broken" | "sloppy" | "careless" | "fault")
            })
        {
            found.push((word.start, clause[i + 1].end, PERSON_FAILURE));
        }
        if word.lower == "by" && i >= 1 && clause.get(i + 1).is_some_and(|next| names.is_person(next)) {
            let before: Vec<&str> = clause[i.saturating_sub(3)..i].iter().map(|w| w.lower.as_str()).collect();
            if before.iter().any(|b| FAULT_NOUNS.contains(b) || matches!(*b, "caused" | "broken" | "bad")) {
                found.push((clause[i.saturating_sub(2)].start, clause[i + 1].end, PERSON_FAILURE));
            }
        }
    }
}

const FAULT_NOUNS: [&str; 9] =
    ["mistake", "error", "typo", "fault", "carelessness", "negligence", "oversight", "blunder", "slip"];

fn is_judgement(word: &str) -> bool {
    matches!(
        word,
        "careless"
            | "carelessly"
            | "carelessness"
            | "negligent"
            | "negligently"
            | "negligence"
            | "sloppy"
            | "sloppily"
            | "lazy"
            | "incompetent"
            | "reckless"
            | "recklessly"
            | "irresponsible"
            | "stupid"
            | "dumb"
            | "obviously"
            | "rushed"
    )
}

/// Whether "just" or "simply" at `i` minimises an action rather than
/// telling time or size ("just before", "just under 90%", "simply put").
fn minimising(clause: Clause<'_>, i: usize) -> bool {
    let next = clause.get(i + 1).map_or("", |w| w.lower.as_str());
    let before = if i > 0 { clause[i - 1].lower.as_str() } else { "" };
    let temporal = matches!(
        next,
        "before"
            | "after"
            | "now"
            | "in"
            | "under"
            | "over"
            | "below"
            | "above"
            | "about"
            | "as"
            | "like"
            | "a"
            | "one"
            | "two"
            | "the"
            | "put"
            | "when"
            | "then"
            | "enough"
            | "barely"
            | "works"
            | "worked"
            | "to"
            | "been"
    ) || next.chars().next().is_some_and(|c| c.is_ascii_digit());
    let recent = matches!(before, "had" | "has" | "have" | "was" | "were" | "is" | "are");
    !temporal && !recent
}

fn is_participle(word: &str) -> bool {
    (word.len() > 3 && word.ends_with("ed"))
        || matches!(
            word,
            "done"
                | "been"
                | "known"
                | "seen"
                | "caught"
                | "run"
                | "gone"
                | "taken"
                | "written"
                | "read"
                | "set"
                | "put"
                | "got"
                | "gotten"
                | "made"
                | "had"
                | "kept"
                | "told"
                | "found"
                | "held"
                | "sent"
                | "spent"
                | "built"
                | "thought"
                | "brought"
                | "taught"
                | "understood"
                | "given"
                | "chosen"
                | "spoken"
                | "driven"
                | "shown"
                | "left"
                | "paid"
        )
}

/// Whether what follows a counterfactual is about the future or a
/// possibility ("could have been anywhere between", "should have returned").
fn looks_ahead(clause: Clause<'_>, participle: usize) -> bool {
    let word = clause.get(participle).map_or("", |w| w.lower.as_str());
    let next = clause.get(participle + 1).map_or("", |w| w.lower.as_str());
    word == "been" && matches!(next, "anywhere" | "triggered" | "caused" | "faster" | "any")
        || word == "started" && next == "as"
}

/// Whether a "should" at `i` has a system, not a person, as its subject.
fn system_subject(clause: Clause<'_>, i: usize) -> bool {
    let words: Vec<&str> = clause[..i].iter().map(|w| w.lower.as_str()).collect();
    const SYSTEMS: [&str; 22] = [
        "cache",
        "service",
        "client",
        "runbook",
        "pipeline",
        "check",
        "deploy",
        "alert",
        "job",
        "server",
        "pod",
        "migration",
        "leak",
        "timeout",
        "probe",
        "queue",
        "database",
        "retry",
        "storm",
        "limiter",
        "breaker",
        "canary",
    ];
    words.iter().rev().take(4).any(|w| SYSTEMS.contains(w) || w.ends_with("client"))
}

/// The words of a person phrase starting at `i` ("the on-call engineer",
/// "the release manager", "the platform team"), as the index of its last
/// word.
fn person_phrase(clause: Clause<'_>, i: usize) -> Option<usize> {
    let mut j = i;
    if matches!(
        clause.get(j).map(|w| w.lower.as_str()),
        Some("the" | "our" | "a" | "this" | "that" | "whoever" | "anyone")
    ) {
        j += 1;
    }
    let mut last = None;
    for (k, word) in clause.iter().enumerate().take((j + 4).min(clause.len())).skip(j) {
        let w = word.lower.as_str();
        if matches!(
            w,
            "engineer"
                | "engineers"
                | "developer"
                | "developers"
                | "reviewer"
                | "reviewers"
                | "author"
                | "on-call"
                | "oncall"
                | "sre"
                | "team"
                | "manager"
                | "commander"
                | "responders"
                | "hire"
                | "people"
                | "ops"
                | "admin"
                | "admins"
        ) {
            last = Some(k);
        } else if last.is_some() {
            break;
        }
    }
    last
}

/// The clause's subject if it is a person (its first and last word), and
/// where its verb is.
fn subject_of(clause: Clause<'_>, names: &Names) -> (Option<(usize, usize)>, Option<usize>) {
    let mut i = 0;
    // "Because Eve merged", "When she changed", "Ultimately, Bo forgot".
    while i < clause.len()
        && matches!(
            clause[i].lower.as_str(),
            "because"
                | "when"
                | "and"
                | "but"
                | "so"
                | "then"
                | "ultimately"
                | "also"
                | "which"
                | "that"
                | "while"
                | "after"
                | "since"
        )
    {
        i += 1;
    }
    // Look for the first person word within the first few words.
    for start in i..(i + 6).min(clause.len()) {
        let word = &clause[start];
        let mut end = start;
        // "Bo's deploy": the deploy is the subject.
        let possessive = word.lower.ends_with("'s") || word.lower.ends_with("\u{2019}s");
        let is_person = if possessive {
            false
        } else if names.is_person(word) {
            // "Ana Ops", "Dmitri Volkov": a surname follows.
            if clause.get(start + 1).is_some_and(|next| {
                next.raw.chars().next().is_some_and(char::is_uppercase)
                    && next.raw.chars().skip(1).all(char::is_lowercase)
            }) {
                end = start + 1;
            }
            true
        } else if PERSON_NOUNS.contains(&word.lower.as_str()) {
            // "We failed over" and "they believed" need the verb to tell.
            true
        } else if let Some(last) = person_phrase(clause, start) {
            end = last;
            true
        } else {
            false
        };
        if is_person {
            let mut verb = end + 1;
            while clause.get(verb).is_some_and(|w| {
                BETWEEN.contains(&w.lower.as_str())
                    || w.lower == "who"
                    || w.lower == "and" && clause.get(verb + 1).is_some_and(|n| names.is_person(n))
            }) {
                verb += if clause[verb].lower == "and" { 2 } else { 1 };
            }
            return (Some((start, end)), Some(verb));
        }
        // A subject that is a thing ("the deploy", "checkout") ends the search.
        if start > i
            && !matches!(
                word.lower.as_str(),
                "the" | "a" | "an" | "our" | "this" | "that" | "then" | "it" | "was"
            )
        {
            break;
        }
    }
    // "The outage happened because Eve merged...": a subordinate clause's subject.
    for at in i..clause.len() {
        if matches!(clause[at].lower.as_str(), "because" | "when" | "after" | "since" | "until" | "as")
            && at + 1 < clause.len()
        {
            let (subject, verb) = subject_of(&clause[at + 1..], names);
            if let (Some((from, to)), Some(verb)) = (subject, verb) {
                return (Some((at + 1 + from, at + 1 + to)), Some(at + 1 + verb));
            }
        }
    }
    (None, None)
}

/// Whether the clause says the person failed, from its verb at `verb` on.
fn failure_after(clause: Clause<'_>, verb: usize, names: &Names) -> bool {
    let Some(first) = clause.get(verb) else { return false };
    let v = first.lower.as_str();
    let next = clause.get(verb + 1).map_or("", |w| w.lower.as_str());
    let rest: Vec<&str> = clause[verb..].iter().map(|w| w.lower.as_str()).collect();
    // Not failures: "broke the tie", "broke the incident into", "failed over".
    if v == "broke"
        && (next == "the"
            && matches!(
                clause.get(verb + 2).map(|w| w.lower.as_str()),
                Some("tie" | "news" | "incident" | "work")
            ))
    {
        return false;
    }
    if v == "failed" && next == "over" {
        return false;
    }
    if v == "was" || v == "is" {
        // "Farah was careless": a judgement, noted by its word.
        return rest
            .iter()
            .skip(1)
            .take(2)
            .any(|w| matches!(*w, "careless" | "sloppy" | "negligent" | "lazy" | "reckless"));
    }
    let _ = names;
    // "did not have an alert": a gap in the system, not a lapse.
    let not_having = |at: usize| {
        rest.get(at)
            .is_some_and(|w| matches!(*w, "have" | "know" | "get" | "receive" | "own" | "need" | "exist"))
    };
    let strong = |at: usize| {
        let v = rest.get(at).copied().unwrap_or("");
        let next = rest.get(at + 1).copied().unwrap_or("");
        matches!(
            v,
            "forgot"
                | "forget"
                | "forgets"
                | "misconfigured"
                | "misread"
                | "messed"
                | "screwed"
                | "neglected"
                | "overlooked"
                | "ignored"
                | "ignore"
                | "botched"
                | "fat-fingered"
                | "mistyped"
                | "blew"
                | "missed"
        ) || v == "didn't" && !not_having(at + 1)
            || v == "did" && next == "not" && !not_having(at + 2)
            || v == "never" && rest.get(at + 1).is_some_and(|w| !matches!(*w, "got" | "received"))
            || v == "broke" && !rest.contains(&"into")
            || v == "took" && next == "down"
            || v == "brought" && next == "down"
            || v == "went" && rest.contains(&"sleep")
            || v == "made"
                && rest.iter().skip(at + 1).take(3).any(|w| matches!(*w, "mistake" | "error" | "typo"))
            || v == "left"
                && rest
                    .iter()
                    .skip(at + 1)
                    .take(5)
                    .any(|w| matches!(*w, "on" | "open" | "enabled" | "running" | "behind"))
    };
    // The first verb, or one joined to it ("silenced the alert and forgot to").
    if strong(0) || (1..rest.len().min(10)).any(|at| rest[at - 1] == "and" && strong(at)) {
        return true;
    }
    if FAILURE_VERBS.contains(&v) || v.ends_with("ed") {
        // An ordinary action done wrong: "deleted the wrong namespace",
        // "merged before CI finished", "ran the script without a dry run".
        let before_done = rest.iter().skip(1).take(12).enumerate().any(|(at, w)| {
            *w == "before"
                && rest.iter().skip(at + 2).take(3).any(|w| {
                    matches!(
                        *w,
                        "finished"
                            | "passed"
                            | "completed"
                            | "checking"
                            | "reading"
                            | "testing"
                            | "review"
                            | "reviewing"
                            | "waiting"
                            | "asking"
                            | "confirming"
                    )
                })
        });
        let faulty = rest.iter().skip(1).take(12).any(|w| FAULT_WORDS.contains(w)) || before_done;
        let told = rest.contains(&"which") || rest.contains(&"that");
        // "deployed the version which contained the bug" tells, not blames.
        return faulty && (!told || matches!(v, "skipped" | "deleted" | "dropped" | "caused" | "left"));
    }
    false
}

/// Whether the word at `i` begins its sentence (only "had" inverted into a
/// condition reads as a counterfactual there).
fn clause_starts_sentence(text: &str, clause: Clause<'_>, i: usize) -> bool {
    let before = text[..clause[i].start].trim_end();
    before.is_empty() || before.ends_with(['.', '!', '?', ',', ':', ';', '\n'])
}

/// Where `phrase` is written in `text`, as whole words, any case.
fn phrase_matches(text: &str, phrase: &str) -> Vec<(usize, usize)> {
    let phrase = phrase.trim().to_lowercase();
    if phrase.is_empty() {
        return Vec::new();
    }
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find(&phrase) {
        let start = from + at;
        let end = start + phrase.len();
        let before = lower[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = lower[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            found.push((start, end));
        }
        from = end;
    }
    found
}

/// Common first names: a capitalised word that is one names a person.
const FIRST_NAMES: &[&str] = &[
    "aaron",
    "adam",
    "adrian",
    "ahmed",
    "aisha",
    "alan",
    "alex",
    "alexander",
    "alice",
    "alicia",
    "amir",
    "amy",
    "ana",
    "andrea",
    "andrew",
    "andrei",
    "angela",
    "anna",
    "anne",
    "anton",
    "arjun",
    "ben",
    "benjamin",
    "bo",
    "boris",
    "brian",
    "bruno",
    "carla",
    "carlos",
    "caroline",
    "charles",
    "charlie",
    "chen",
    "chris",
    "christian",
    "christina",
    "claire",
    "dan",
    "daniel",
    "david",
    "diana",
    "diego",
    "dmitri",
    "dmitry",
    "elena",
    "eli",
    "elijah",
    "emily",
    "emma",
    "eric",
    "erik",
    "eve",
    "fabio",
    "farah",
    "fatima",
    "felix",
    "fernando",
    "frank",
    "gabriel",
    "george",
    "hana",
    "hannah",
    "hans",
    "harry",
    "helen",
    "henrik",
    "hiro",
    "ian",
    "igor",
    "ingrid",
    "isabel",
    "ivan",
    "jack",
    "jacob",
    "james",
    "jan",
    "jane",
    "jason",
    "javier",
    "jen",
    "jennifer",
    "jessica",
    "jim",
    "joe",
    "johan",
    "john",
    "jonas",
    "jose",
    "joseph",
    "juan",
    "julia",
    "julian",
    "kai",
    "karen",
    "karim",
    "kate",
    "kenji",
    "kevin",
    "kim",
    "laura",
    "lars",
    "lea",
    "lena",
    "leo",
    "li",
    "liam",
    "lin",
    "linda",
    "lisa",
    "lucas",
    "luis",
    "luca",
    "lukas",
    "maria",
    "marco",
    "marcus",
    "mark",
    "martin",
    "mary",
    "matt",
    "matthew",
    "max",
    "mei",
    "mia",
    "michael",
    "miguel",
    "mike",
    "ming",
    "mohamed",
    "nadia",
    "nina",
    "noah",
    "nora",
    "olga",
    "oliver",
    "omar",
    "oscar",
    "pablo",
    "paul",
    "pedro",
    "peter",
    "pierre",
    "priya",
    "rahul",
    "raj",
    "rachel",
    "ravi",
    "robert",
    "rosa",
    "ryan",
    "sam",
    "sara",
    "sarah",
    "sebastian",
    "sergei",
    "simon",
    "sofia",
    "sophie",
    "stefan",
    "steve",
    "sven",
    "tanya",
    "thomas",
    "tim",
    "tom",
    "tomasz",
    "vera",
    "victor",
    "wei",
    "yuki",
    "yusuf",
    "zoe",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            people: ["Ana Ops", "Bo Bear", "Chen", "Dmitri", "Eve", "Farah"].map(String::from).to_vec(),
            ..Rules::default()
        }
    }

    fn flagged(text: &str) -> Vec<String> {
        check(text, &rules()).into_iter().map(|note| note.rule).collect()
    }

    #[test]
    fn the_issues_examples_are_told_apart() {
        assert_eq!(flagged("Bo forgot to renew the certificate."), [PERSON_FAILURE]);
        assert_eq!(flagged("Ana broke the deploy."), [PERSON_FAILURE]);
        assert_eq!(flagged("Root cause: human error."), [HUMAN_ERROR]);
        assert_eq!(flagged("The on-call engineer should have checked the dashboard."), [COUNTERFACTUAL]);
        assert!(flagged("The deploy failed to start.").is_empty());
        assert!(flagged("We should have alerts on this.").is_empty());
        assert!(flagged("Bo restarted the pods.").is_empty());
    }

    #[test]
    fn quoted_text_is_not_flagged() {
        assert!(flagged("The log said `human error` and then:\n\n> Bo forgot to renew it\n").is_empty());
        assert!(flagged("```\nthey should have known\n```\n").is_empty());
        assert!(flagged("The alert read \"obviously broken\" for an hour.").is_empty());
    }

    #[test]
    fn offsets_are_in_characters_and_cover_the_words() {
        let text = "Ünïcode first. Root cause: human error.";
        let note = &check(text, &rules())[0];
        let shown: String = text.chars().skip(note.start).take(note.end - note.start).collect();
        assert_eq!(shown, "human error");
    }

    #[test]
    fn admins_add_phrases_and_switch_rules_off() {
        let mut rules = rules();
        rules.custom.push(CustomRule {
            key: "custom-1".into(),
            phrase: "rockstar".into(),
            message: "m".into(),
            suggestion: "s".into(),
        });
        rules.disabled.push(HUMAN_ERROR.into());
        let notes = check("Human error, said the rockstar.", &rules);
        let keys: Vec<&str> = notes.iter().map(|n| n.rule.as_str()).collect();
        assert_eq!(keys, ["custom-1"]);
    }

    /// Precision and recall on a labelled set: `(label, sentence)` lines.
    fn measure(path: &str) -> (f64, f64, Vec<String>) {
        let text =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
        let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
        let mut wrong = Vec::new();
        for line in text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()) {
            let (label, sentence) = line.split_once('\t').unwrap();
            let said = !check(sentence, &rules()).is_empty();
            match (label == "blameful", said) {
                (true, true) => tp += 1.0,
                (false, true) => {
                    fp += 1.0;
                    wrong.push(format!("false positive: {sentence}"));
                }
                (true, false) => {
                    fn_ += 1.0;
                    wrong.push(format!("missed: {sentence}"));
                }
                (false, false) => {}
            }
        }
        (tp / (tp + fp), tp / (tp + fn_), wrong)
    }

    #[test]
    fn precision_and_recall_on_the_labelled_set_are_both_at_least_nine_tenths() {
        let (precision, recall, wrong) = measure("tests/fixtures/wording/sentences.tsv");
        eprintln!("labelled set: precision {precision:.3}, recall {recall:.3}");
        for line in &wrong {
            eprintln!("  {line}");
        }
        assert!(precision >= 0.9 && recall >= 0.9, "precision {precision:.3}, recall {recall:.3}");
    }

    #[test]
    fn a_held_out_set_written_after_the_rules_is_measured_too() {
        let (precision, recall, _) = measure("tests/fixtures/wording/held_out.tsv");
        eprintln!("held-out set: precision {precision:.3}, recall {recall:.3}");
    }

    #[test]
    fn a_hostile_text_costs_work_in_proportion_to_its_length() {
        // One sentence of connectives, and one of "should": no clause is
        // read again for each word it holds.
        let connectives = "because when after ".repeat(30_000);
        assert!(check(&connectives, &rules()).is_empty());
        let shoulds = "should have checked ".repeat(30_000);
        assert!(!check(&shoulds, &rules()).is_empty());
    }
}
