//! Quick entry: the lines an on-call engineer pastes into the timeline box
//! (`14:02 alert: 5xx > 5%`, `14:05 paged the payments on-call`, ...) read as
//! timeline events.
//!
//! A line is an observation unless it names its kind first, `alert:` or
//! `[alert]`; words inside the text never set it.
//!
//! Each line that starts with a wall-clock time in the user's zone becomes one
//! event; a line that cannot be read is given back with the reason, so the page
//! can show it to the user instead of losing it. Reading is pure: the caller
//! brings the incident's day and the conversion from the user's zone to UTC.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::domain::EventKind;

/// At most this many non-blank lines are read from one paste.
pub const MAX_LINES: usize = 1_000;

/// What may stand between the time and the text, besides spaces.
const SEPARATORS: [char; 5] = ['-', '–', '—', '|', ':'];

/// The words that name a kind at the start of a line's text, `alert: 5xx > 5%`:
/// each kind's own name and the words people write instead. The kind is only
/// ever taken from such a word: guessing it from words inside the text made an
/// alert of "checked the alert threshold, it was fine".
const KIND_WORDS: [(EventKind, &[&str]); 8] = [
    (EventKind::Observation, &["observation", "observed", "note"]),
    (EventKind::Alert, &["alert", "alerted", "alarm", "page", "paged"]),
    (EventKind::Decision, &["decision", "decided"]),
    (EventKind::Hypothesis, &["hypothesis", "theory", "suspicion", "suspect"]),
    (EventKind::Action, &["action", "did"]),
    (EventKind::Mitigation, &["mitigation", "mitigated", "mitigate"]),
    (EventKind::Communication, &["communication", "comms", "announcement", "announced"]),
    (EventKind::Resolution, &["resolution", "resolved", "fixed"]),
];

const NO_TIME: &str = "No time at the start of the line (expected 14:02 or 2026-11-20 14:02).";
const UNREADABLE_TIME: &str = "Could not read the time: write it like 14:02 or 14:02:30.";
const UNREADABLE_DATE: &str = "Could not read the date: write it like 2026-11-20 14:02.";
const UNREADABLE_BRACKETS: &str = "Could not read the time in brackets: write it like [14:02].";
const DATE_WITHOUT_TIME: &str = "Add a time after the date, like 2026-11-20 14:02.";
const NO_SPACE: &str = "Put a space between the time and the text.";
const NO_TEXT: &str = "No text after the time.";
const TOO_MANY_LINES: &str =
    "Too many lines in one paste: at most 1,000. This line and the ones after it were not read.";

/// One event read from a pasted line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastedEvent {
    /// 1-based line number in the pasted text.
    pub line: usize,
    /// When it happened, in UTC.
    pub at: OffsetDateTime,
    pub kind: EventKind,
    /// The text after the time (and after an explicit kind, if any) as
    /// typed, Markdown included, trimmed; never empty.
    pub body: String,
}

/// A line that could not be read, given back to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedLine {
    /// 1-based line number in the pasted text.
    pub line: usize,
    /// The line as pasted, without its line ending. When the paste has more
    /// than [`MAX_LINES`] lines, the last rejected "line" is instead the whole
    /// unread rest of the paste, so it can be pasted again in one go.
    pub text: String,
    /// A short sentence saying what is wrong.
    pub reason: String,
}

/// What came out of one paste, in the order of the lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pasted {
    pub events: Vec<PastedEvent>,
    pub rejected: Vec<RejectedLine>,
}

/// Reads pasted notes, one event per line.
///
/// `day` is the incident's date in the user's zone, used for lines with a
/// time only; `to_utc` turns a wall-clock date-time in the user's zone into
/// UTC, returning `None` when that local time does not exist (a DST gap), in
/// which case the line is rejected.
///
/// Time-only lines follow a running local date that starts at `day`: a line
/// with a full date moves it to that date, and a time-only line earlier in the
/// day than the previous event moves it to the next day, because incidents
/// cross midnight. Rejected lines leave it alone.
///
/// Blank lines are skipped. After [`MAX_LINES`] non-blank lines, reading
/// stops and the rest of the paste comes back as a single [`RejectedLine`].
pub fn parse_pasted(
    text: &str,
    day: Date,
    to_utc: &dyn Fn(PrimitiveDateTime) -> Option<OffsetDateTime>,
) -> Pasted {
    let mut pasted = Pasted::default();
    let mut clock = Clock { date: day, last: None };
    let mut read = 0;
    let mut unread = text;
    let mut number = 0;
    while !unread.is_empty() {
        let (raw, rest) = unread.split_once('\n').unwrap_or((unread, ""));
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        number += 1;
        if !line.trim().is_empty() {
            if read == MAX_LINES {
                pasted.rejected.push(RejectedLine {
                    line: number,
                    text: unread.trim_end().to_owned(),
                    reason: TOO_MANY_LINES.to_owned(),
                });
                break;
            }
            read += 1;
            match read_line(line, number, &mut clock, to_utc) {
                Ok(event) => pasted.events.push(event),
                Err(reason) => {
                    pasted.rejected.push(RejectedLine { line: number, text: line.to_owned(), reason })
                }
            }
        }
        unread = rest;
    }
    pasted
}

/// Where the previous accepted event stands, to place time-only lines.
struct Clock {
    date: Date,
    last: Option<Time>,
}

impl Clock {
    /// The local date-time of `stamp`: on its own date if it has one, else on
    /// the running date, or the day after when it is earlier than the last event.
    fn place(&self, stamp: Stamp) -> Result<PrimitiveDateTime, String> {
        let date = match stamp.date {
            Some(date) => date,
            None if self.last.is_some_and(|last| stamp.time < last) => {
                self.date.next_day().ok_or_else(|| format!("There is no day after {}.", self.date))?
            }
            None => self.date,
        };
        Ok(PrimitiveDateTime::new(date, stamp.time))
    }

    fn advance(&mut self, local: PrimitiveDateTime) {
        self.date = local.date();
        self.last = Some(local.time());
    }
}

/// The time a line starts with, and its date if it has one.
struct Stamp {
    date: Option<Date>,
    time: Time,
}

/// Reads one non-blank line, moving the clock only when the line is accepted.
fn read_line(
    line: &str,
    number: usize,
    clock: &mut Clock,
    to_utc: &dyn Fn(PrimitiveDateTime) -> Option<OffsetDateTime>,
) -> Result<PastedEvent, String> {
    let (stamp, rest) = read_stamp(line.trim_start())?;
    let text = after_separator(rest).ok_or(NO_SPACE)?.trim_end();
    if text.is_empty() {
        return Err(NO_TEXT.into());
    }
    let (kind, body) = match explicit_kind(text) {
        Some((kind, "")) => return Err(format!("No text after the kind “{kind}”.")),
        Some((kind, body)) => (Some(kind), body),
        None => (None, text),
    };
    // Bounded like every event's text, typed or pasted.
    crate::web::markdown::accept(body, "event's text")?;
    let local = clock.place(stamp)?;
    let at = to_utc(local).ok_or_else(|| {
        format!("There is no {} in your time zone: the clocks jump over it.", wall_clock(local))
    })?;
    clock.advance(local);
    Ok(PastedEvent { line: number, at, kind: kind.unwrap_or(EventKind::Observation), body: body.to_owned() })
}

/// Reads the time, or date and time, at the start of `line`, perhaps in
/// square brackets, and returns it with what follows.
fn read_stamp(line: &str) -> Result<(Stamp, &str), String> {
    let Some(inner) = line.strip_prefix('[') else {
        return read_bare_stamp(line);
    };
    let (stamp, rest) = read_bare_stamp(inner.trim_start())?;
    let rest = rest.trim_start().strip_prefix(']').ok_or(UNREADABLE_BRACKETS)?;
    Ok((stamp, rest))
}

fn read_bare_stamp(line: &str) -> Result<(Stamp, &str), String> {
    let (first, after_first) = split_digits(line);
    if first.len() == 4 && after_first.starts_with('-') {
        let (date, rest) = read_date(line)?;
        let time = match rest.strip_prefix(['T', 't']) {
            Some(time) => time,
            None => {
                let spaced = rest.trim_start_matches([' ', '\t']);
                if spaced.len() == rest.len() {
                    return Err(DATE_WITHOUT_TIME.into());
                }
                spaced
            }
        };
        if !split_digits(time).1.starts_with(':') {
            return Err(DATE_WITHOUT_TIME.into());
        }
        let (time, rest) = read_time(time)?;
        Ok((Stamp { date: Some(date), time }, rest))
    } else if !first.is_empty() && after_first.starts_with(':') {
        let (time, rest) = read_time(line)?;
        Ok((Stamp { date: None, time }, rest))
    } else {
        Err(NO_TIME.into())
    }
}

/// Reads `YYYY-MM-DD`.
fn read_date(text: &str) -> Result<(Date, &str), String> {
    let (year, rest) = split_digits(text);
    let (month, rest) = split_digits(rest.strip_prefix('-').ok_or(UNREADABLE_DATE)?);
    let (day, rest) = split_digits(rest.strip_prefix('-').ok_or(UNREADABLE_DATE)?);
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(UNREADABLE_DATE.into());
    }
    let year: i32 = year.parse().map_err(|_| UNREADABLE_DATE)?;
    let month: u8 = month.parse().map_err(|_| UNREADABLE_DATE)?;
    let day: u8 = day.parse().map_err(|_| UNREADABLE_DATE)?;
    let month = Month::try_from(month).map_err(|_| format!("There is no month {month}."))?;
    let date = Date::from_calendar_date(year, month, day)
        .map_err(|_| format!("{month} {year} has no day {day}."))?;
    Ok((date, rest))
}

/// Reads `H:MM`, `HH:MM` or `HH:MM:SS`.
fn read_time(text: &str) -> Result<(Time, &str), String> {
    let (hours, rest) = split_digits(text);
    let (minutes, mut rest) = split_digits(rest.strip_prefix(':').ok_or(UNREADABLE_TIME)?);
    let mut seconds = "0";
    if let Some(after) = rest.strip_prefix(':')
        && starts_with_digit(after)
    {
        (seconds, rest) = split_digits(after);
        if seconds.len() != 2 {
            return Err(UNREADABLE_TIME.into());
        }
    }
    // A fourth part, as in `14:02:30:15`, is not a time either.
    let has_more_parts = rest.strip_prefix(':').is_some_and(starts_with_digit);
    if !(1..=2).contains(&hours.len()) || minutes.len() != 2 || has_more_parts {
        return Err(UNREADABLE_TIME.into());
    }
    let hours: u8 = hours.parse().map_err(|_| UNREADABLE_TIME)?;
    let minutes: u8 = minutes.parse().map_err(|_| UNREADABLE_TIME)?;
    let seconds: u8 = seconds.parse().map_err(|_| UNREADABLE_TIME)?;
    if hours > 23 {
        return Err(format!("There is no hour {hours}: hours go from 0 to 23."));
    }
    if minutes > 59 {
        return Err(format!("There is no minute {minutes}: minutes go from 00 to 59."));
    }
    if seconds > 59 {
        return Err(format!("There is no second {seconds}: seconds go from 00 to 59."));
    }
    let time = Time::from_hms(hours, minutes, seconds).map_err(|_| UNREADABLE_TIME)?;
    Ok((time, rest))
}

/// Skips the spaces and at most one separator between the time and the text;
/// `None` when the text follows the time with nothing in between.
fn after_separator(rest: &str) -> Option<&str> {
    let spaced = rest.trim_start();
    let mut chars = spaced.chars();
    if let Some(separator) = chars.next()
        && SEPARATORS.contains(&separator)
    {
        let after = chars.as_str();
        // `14:02 -5% errors` is text that starts with a minus, not a separator.
        if after.is_empty() || after.starts_with(char::is_whitespace) {
            return Some(after.trim_start());
        }
    }
    (rest.is_empty() || spaced.len() < rest.len()).then_some(spaced)
}

/// A kind named at the start of the text, `decision: roll back` or
/// `[decision] roll back`, and the text after it.
fn explicit_kind(text: &str) -> Option<(EventKind, &str)> {
    let (word, body) = match text.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']')?,
        None => text.split_once(':')?,
    };
    let kind = kind_named(word)?;
    Some((kind, body.trim_start()))
}

/// The kind a word names, in any case: `Alert`, `mitigated`.
fn kind_named(word: &str) -> Option<EventKind> {
    let word = word.trim().to_lowercase();
    KIND_WORDS.iter().find(|(_, words)| words.contains(&word.as_str())).map(|&(kind, _)| kind)
}

/// Splits `text` after its leading ASCII digits.
fn split_digits(text: &str) -> (&str, &str) {
    text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()))
}

fn starts_with_digit(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit())
}

/// `2026-03-29 02:30`, with the seconds only when there are some.
fn wall_clock(local: PrimitiveDateTime) -> String {
    let (hours, minutes, seconds) = local.time().as_hms();
    match seconds {
        0 => format!("{} {hours:02}:{minutes:02}", local.date()),
        _ => format!("{} {hours:02}:{minutes:02}:{seconds:02}", local.date()),
    }
}

#[cfg(test)]
mod tests {
    use time::{
        UtcOffset,
        macros::{date, datetime, offset},
    };

    use super::*;

    const DAY: Date = date!(2026 - 11 - 20);

    fn as_utc(local: PrimitiveDateTime) -> Option<OffsetDateTime> {
        Some(local.assume_utc())
    }

    fn paste(text: &str) -> Pasted {
        parse_pasted(text, DAY, &as_utc)
    }

    /// The one event a one-line paste gives, failing with the reason if the line was rejected.
    fn event(line: &str) -> PastedEvent {
        let mut pasted = paste(line);
        assert_eq!(pasted.rejected, [], "{line:?}");
        assert_eq!(pasted.events.len(), 1, "{line:?}");
        pasted.events.remove(0)
    }

    /// The reason a one-line paste was rejected.
    fn reason(line: &str) -> String {
        let mut pasted = paste(line);
        assert_eq!(pasted.events, [], "{line:?}");
        assert_eq!(pasted.rejected.len(), 1, "{line:?}");
        pasted.rejected.remove(0).reason
    }

    #[test]
    fn a_typical_paste_becomes_events_and_gives_back_what_it_cannot_read() {
        let text = "14:02 alert: 5xx > 5% on checkout\n\
                    14:05 paged the payments on-call\n\
                    14:11 hypothesis: connection pool exhausted\n\
                    2026-11-20 14:30 mitigation: rolled back deploy 4512\n\
                    23:58 error rate back to normal\n\
                    00:03 resolved: declared resolved\n\
                    this line has no time\n";
        let pasted = paste(text);

        let events: Vec<_> = pasted.events.iter().map(|e| (e.line, e.at, e.kind, e.body.as_str())).collect();
        assert_eq!(
            events,
            [
                (1, datetime!(2026-11-20 14:02 UTC), EventKind::Alert, "5xx > 5% on checkout"),
                (2, datetime!(2026-11-20 14:05 UTC), EventKind::Observation, "paged the payments on-call"),
                (3, datetime!(2026-11-20 14:11 UTC), EventKind::Hypothesis, "connection pool exhausted"),
                (4, datetime!(2026-11-20 14:30 UTC), EventKind::Mitigation, "rolled back deploy 4512"),
                (5, datetime!(2026-11-20 23:58 UTC), EventKind::Observation, "error rate back to normal"),
                (6, datetime!(2026-11-21 00:03 UTC), EventKind::Resolution, "declared resolved"),
            ]
        );
        assert_eq!(
            pasted.rejected,
            [RejectedLine { line: 7, text: "this line has no time".into(), reason: NO_TIME.into() }]
        );
    }

    #[test]
    fn time_only_lines_use_the_incident_day() {
        let pasted = parse_pasted("09:15 first\n09:20 second", date!(2026 - 03 - 02), &as_utc);
        let times: Vec<_> = pasted.events.iter().map(|e| e.at).collect();
        assert_eq!(times, [datetime!(2026-03-02 09:15 UTC), datetime!(2026-03-02 09:20 UTC)]);
    }

    #[test]
    fn times_earlier_than_the_previous_one_roll_to_the_next_day() {
        let pasted = paste("22:00 a\n23:58 b\n23:58 same minute\n00:03 c\n00:01 d\n12:00 e");
        let times: Vec<_> = pasted.events.iter().map(|e| e.at).collect();
        assert_eq!(
            times,
            [
                datetime!(2026-11-20 22:00 UTC),
                datetime!(2026-11-20 23:58 UTC),
                datetime!(2026-11-20 23:58 UTC),
                datetime!(2026-11-21 00:03 UTC),
                datetime!(2026-11-22 00:01 UTC),
                datetime!(2026-11-22 12:00 UTC),
            ]
        );
    }

    #[test]
    fn a_full_date_sets_the_day_and_never_rolls() {
        let pasted =
            paste("23:00 a\n2026-11-19 08:00 earlier day\n09:00 b\n2026-11-19 07:00 back in time\n06:00 c");
        let times: Vec<_> = pasted.events.iter().map(|e| e.at).collect();
        assert_eq!(
            times,
            [
                datetime!(2026-11-20 23:00 UTC),
                datetime!(2026-11-19 08:00 UTC),
                datetime!(2026-11-19 09:00 UTC),
                datetime!(2026-11-19 07:00 UTC),
                datetime!(2026-11-20 06:00 UTC),
            ]
        );
    }

    #[test]
    fn rejected_lines_do_not_move_the_day() {
        let pasted = paste("23:50 a\n00:10\n00:20 b");
        assert_eq!(pasted.rejected.len(), 1);
        assert_eq!(pasted.events[1].at, datetime!(2026-11-21 00:20 UTC));
    }

    #[test]
    fn accepted_time_prefixes() {
        let cases = [
            ("14:02 text", datetime!(2026-11-20 14:02)),
            ("14:02:30 text", datetime!(2026-11-20 14:02:30)),
            ("9:05 text", datetime!(2026-11-20 09:05)),
            ("09:05 text", datetime!(2026-11-20 09:05)),
            ("0:00 text", datetime!(2026-11-20 00:00)),
            ("23:59:59 text", datetime!(2026-11-20 23:59:59)),
            ("[14:02] text", datetime!(2026-11-20 14:02)),
            ("[14:02:30] text", datetime!(2026-11-20 14:02:30)),
            ("[ 9:05 ] text", datetime!(2026-11-20 09:05)),
            ("2026-11-21 14:02 text", datetime!(2026-11-21 14:02)),
            ("2026-11-21 14:02:30 text", datetime!(2026-11-21 14:02:30)),
            ("2026-11-21T14:02 text", datetime!(2026-11-21 14:02)),
            ("2026-11-21T14:02:30 text", datetime!(2026-11-21 14:02:30)),
            ("2026-11-21  9:05 text", datetime!(2026-11-21 09:05)),
            ("[2026-11-21 14:02] text", datetime!(2026-11-21 14:02)),
            ("2024-02-29 10:00 text", datetime!(2024-02-29 10:00)),
            ("   14:02 text", datetime!(2026-11-20 14:02)),
            ("\t14:02 text", datetime!(2026-11-20 14:02)),
        ];
        for (line, local) in cases {
            let event = event(line);
            assert_eq!(event.at, local.assume_utc(), "{line:?}");
            assert_eq!(event.body, "text", "{line:?}");
        }
    }

    #[test]
    fn separators_between_the_time_and_the_text_are_skipped() {
        let cases = [
            ("14:02 text", "text"),
            ("14:02     text", "text"),
            ("14:02 - text", "text"),
            ("14:02 – text", "text"),
            ("14:02 — text", "text"),
            ("14:02 | text", "text"),
            ("14:02: text", "text"),
            ("14:02 : text", "text"),
            ("14:02:30 - text", "text"),
            ("[14:02] - text", "text"),
            ("[14:02]: text", "text"),
            ("14:02 -\ttext", "text"),
            // Only one separator is skipped, and only when a space follows it.
            ("14:02 - - text", "- text"),
            ("14:02 -5% errors", "-5% errors"),
            ("14:02 | a | b", "a | b"),
        ];
        for (line, body) in cases {
            assert_eq!(event(line).body, body, "{line:?}");
        }
    }

    #[test]
    fn bodies_are_kept_as_typed_and_trimmed() {
        let line = "14:02   **Checkout** is _down_, see `api-7` — [graph](https://example.com)  \t";
        assert_eq!(event(line).body, "**Checkout** is _down_, see `api-7` — [graph](https://example.com)");
        assert_eq!(event("14:02 naïve café ☕ 日本語").body, "naïve café ☕ 日本語");
    }

    #[test]
    fn unreadable_lines_are_given_back_with_a_reason() {
        let cases = [
            ("this line has no time", NO_TIME),
            ("1402 deployed", NO_TIME),
            ("500 errors spiking", NO_TIME),
            ("[decision] roll back", NO_TIME),
            ("≈14:02 text", NO_TIME),
            ("14h02 text", NO_TIME),
            ("123:45 text", UNREADABLE_TIME),
            ("14:2 text", UNREADABLE_TIME),
            ("14:025 text", UNREADABLE_TIME),
            ("14: text", UNREADABLE_TIME),
            ("14:02:5 text", UNREADABLE_TIME),
            ("14:02:300 text", UNREADABLE_TIME),
            ("14:02:30:15 text", UNREADABLE_TIME),
            ("2026-1-20 14:02 text", UNREADABLE_DATE),
            ("2026-11-2014:02 text", UNREADABLE_DATE),
            ("2026/11/20 14:02 text", NO_TIME),
            ("2026-11-20 rolled back", DATE_WITHOUT_TIME),
            ("2026-11-20", DATE_WITHOUT_TIME),
            ("2026-11-20: text", DATE_WITHOUT_TIME),
            ("[14:02 text", UNREADABLE_BRACKETS),
            ("[14:02x] text", UNREADABLE_BRACKETS),
            ("14:02pm text", NO_SPACE),
            ("14:02text", NO_SPACE),
            ("14:02:x", NO_SPACE),
            ("[14:02]text", NO_SPACE),
            ("14:02", NO_TEXT),
            ("14:02   ", NO_TEXT),
            ("14:02 -", NO_TEXT),
            ("[14:02] | ", NO_TEXT),
        ];
        for (line, expected) in cases {
            assert_eq!(reason(line), expected, "{line:?}");
        }
    }

    #[test]
    fn the_rejected_line_is_given_back_as_pasted() {
        let pasted = paste("14:02 ok\r\n  25:00 — oops  \r\n");
        assert_eq!(pasted.rejected[0].line, 2);
        assert_eq!(pasted.rejected[0].text, "  25:00 — oops  ");
    }

    #[test]
    fn out_of_range_times_and_dates_name_the_problem() {
        let cases = [
            ("25:00 text", "There is no hour 25: hours go from 0 to 23."),
            ("24:00 text", "There is no hour 24: hours go from 0 to 23."),
            ("14:61 text", "There is no minute 61: minutes go from 00 to 59."),
            ("14:02:60 text", "There is no second 60: seconds go from 00 to 59."),
            ("[99:99] text", "There is no hour 99: hours go from 0 to 23."),
            ("2026-02-30 10:00 text", "February 2026 has no day 30."),
            ("2026-02-29 10:00 text", "February 2026 has no day 29."),
            ("2026-04-00 10:00 text", "April 2026 has no day 0."),
            ("2026-13-01 10:00 text", "There is no month 13."),
            ("2026-00-01 10:00 text", "There is no month 0."),
            ("2026-11-20 24:00 text", "There is no hour 24: hours go from 0 to 23."),
        ];
        for (line, expected) in cases {
            assert_eq!(reason(line), expected, "{line:?}");
        }
    }

    #[test]
    fn a_kind_is_named_before_a_colon_or_in_brackets() {
        let cases = [
            (
                "14:11 hypothesis: connection pool exhausted",
                EventKind::Hypothesis,
                "connection pool exhausted",
            ),
            ("14:11 Decision: roll back", EventKind::Decision, "roll back"),
            ("14:11 ACTION:  rolled back deploy 4512", EventKind::Action, "rolled back deploy 4512"),
            ("14:11 observation : paged twice", EventKind::Observation, "paged twice"),
            ("14:11 [decision] roll back", EventKind::Decision, "roll back"),
            (
                "14:11 [ Communication ] posted in #incidents",
                EventKind::Communication,
                "posted in #incidents",
            ),
            ("[14:11] [mitigation] drained node 3", EventKind::Mitigation, "drained node 3"),
            ("14:11 note: paged again", EventKind::Observation, "paged again"),
            // Not a kind: the whole text is the body of an observation.
            ("14:11 ops: paged again", EventKind::Observation, "ops: paged again"),
            ("14:11 [ops] restarted the pods", EventKind::Observation, "[ops] restarted the pods"),
            ("14:11 the decision: wait", EventKind::Observation, "the decision: wait"),
        ];
        for (line, kind, body) in cases {
            let event = event(line);
            assert_eq!((event.kind, event.body.as_str()), (kind, body), "{line:?}");
        }
    }

    #[test]
    fn a_kind_needs_text_after_it() {
        assert_eq!(reason("14:02 decision:"), "No text after the kind “decision”.");
        assert_eq!(reason("14:02 [alert]  "), "No text after the kind “alert”.");
    }

    #[test]
    fn a_kind_word_anywhere_but_first_leaves_an_observation() {
        let cases = [
            "14:05 paged the payments on-call",
            "14:06 checked the alert threshold, it was fine",
            "14:07 rolled back deploy 4512",
            "14:08 we suspect the cache",
            "14:09 alert fired: 5xx > 5%",
            "14:10 status page updated: investigating",
        ];
        for line in cases {
            let event = event(line);
            assert_eq!((event.kind, event.body.as_str()), (EventKind::Observation, &line[6..]), "{line:?}");
        }
    }

    #[test]
    fn every_kind_is_named_by_its_word_or_a_synonym() {
        use EventKind::*;
        let cases = [
            ("14:02 Alert: 5xx > 5%", Alert),
            ("14:02 paged: payments on-call", Alert),
            ("14:03 observation: queue depth rising", Observation),
            ("14:03 note: queue depth rising", Observation),
            ("14:04 decision: freeze deploys", Decision),
            ("14:04 DECIDED: freeze deploys", Decision),
            ("14:05 hypothesis: pool exhausted", Hypothesis),
            ("14:05 theory: pool exhausted", Hypothesis),
            ("14:06 action: bumped the pool size", Action),
            ("14:07 mitigated: rolled back", Mitigation),
            ("14:07 Mitigation: rolled back", Mitigation),
            ("14:08 comms: posted in #incidents", Communication),
            ("14:08 communication: posted in #incidents", Communication),
            ("14:09 resolved: back to normal", Resolution),
            ("14:09 resolution: back to normal", Resolution),
        ];
        for (line, kind) in cases {
            let event = event(line);
            let body = line.split_once(": ").unwrap().1;
            assert_eq!((event.kind, event.body.as_str()), (kind, body), "{line:?}");
        }
        for kind in EventKind::ALL {
            assert_eq!(event(&format!("14:02 {kind}: text")).kind, kind, "{kind}");
        }
    }

    #[test]
    fn blank_lines_are_skipped_and_crlf_is_understood() {
        let pasted = paste("\r\n   \r\n14:02 one\r\n\t\r\n\r\n14:05 two\r\n\n");
        let lines: Vec<_> = pasted.events.iter().map(|e| (e.line, e.body.as_str())).collect();
        assert_eq!(lines, [(3, "one"), (6, "two")]);
        assert_eq!(pasted.rejected, []);
        assert_eq!(paste(""), Pasted::default());
        assert_eq!(paste("\n\n \n"), Pasted::default());
    }

    #[test]
    fn bodies_longer_than_the_limit_are_rejected() {
        // Characters, not bytes, are counted.
        // The same limit as an event typed in the form.
        let longest = "é".repeat(crate::web::markdown::MAX_CHARS);
        assert_eq!(event(&format!("14:02 {longest}")).body, longest);
        assert_eq!(event(&format!("14:02 decision: {longest}")).body, longest);
        let typed = super::super::domain::EventInput {
            occurred_at: "2026-11-20T14:02".into(),
            kind: "observation".into(),
            body: format!("{longest}x"),
            ..Default::default()
        };
        let typed_error = typed.parse(&crate::web::clock::parse_moment).unwrap_err();
        assert_eq!(reason(&format!("14:02 {longest}x")), typed_error.get("body").unwrap());
    }

    #[test]
    fn at_most_a_thousand_lines_are_read() {
        let mut text: String = (0..MAX_LINES).map(|i| format!("12:00 event {i}\n\n")).collect();
        text.push_str("12:01 one too many\n12:02 and another\n\n");
        let pasted = paste(&text);
        assert_eq!(pasted.events.len(), MAX_LINES);
        assert_eq!(
            pasted.rejected,
            [RejectedLine {
                line: 2 * MAX_LINES + 1,
                text: "12:01 one too many\n12:02 and another".into(),
                reason: TOO_MANY_LINES.into(),
            }]
        );
    }

    #[test]
    fn rejected_lines_count_towards_the_limit() {
        let text = "nonsense\n".repeat(MAX_LINES) + "12:00 too late";
        let pasted = paste(&text);
        assert_eq!(pasted.events, []);
        assert_eq!(pasted.rejected.len(), MAX_LINES + 1);
        assert_eq!(pasted.rejected[MAX_LINES].reason, TOO_MANY_LINES);
    }

    #[test]
    fn a_local_time_in_a_dst_gap_is_rejected() {
        // Clocks jump from 02:00 to 03:00 on this day.
        let spring_forward = |local: PrimitiveDateTime| (local.hour() != 2).then(|| local.assume_utc());
        let pasted = parse_pasted("01:55 a\n02:30 b\n03:05 c", date!(2026 - 03 - 29), &spring_forward);
        let times: Vec<_> = pasted.events.iter().map(|e| e.at).collect();
        assert_eq!(times, [datetime!(2026-03-29 01:55 UTC), datetime!(2026-03-29 03:05 UTC)]);
        assert_eq!(
            pasted.rejected,
            [RejectedLine {
                line: 2,
                text: "02:30 b".into(),
                reason: "There is no 2026-03-29 02:30 in your time zone: the clocks jump over it.".into(),
            }]
        );
    }

    #[test]
    fn a_fixed_offset_zone_converts_to_utc() {
        let plus_one =
            |local: PrimitiveDateTime| Some(local.assume_offset(offset!(+1)).to_offset(UtcOffset::UTC));
        let pasted = parse_pasted("14:02 a\n23:58 b\n00:30:15 c\n2026-12-01 00:10 d", DAY, &plus_one);
        let times: Vec<_> = pasted.events.iter().map(|e| e.at).collect();
        assert_eq!(
            times,
            [
                datetime!(2026-11-20 13:02 UTC),
                datetime!(2026-11-20 22:58 UTC),
                datetime!(2026-11-20 23:30:15 UTC),
                datetime!(2026-11-30 23:10 UTC),
            ]
        );
        assert!(pasted.events.iter().all(|e| e.at.offset() == UtcOffset::UTC));
    }

    #[test]
    fn the_last_day_there_is_does_not_roll_over() {
        let pasted = paste("9999-12-31 23:59 a\n00:01 b");
        assert_eq!(pasted.events.len(), 1);
        assert_eq!(pasted.rejected[0].reason, "There is no day after 9999-12-31.");
    }

    #[test]
    fn no_input_panics() {
        let nasty =
            "[14:0\u{301}2]—\u{0}😀 [déci] 2026-1\u{1F600}1-20T9:5:5 ::|– \r\r\n[[[]]] 日本:語 \u{FEFF}0:00 ";
        // Every prefix and suffix cut at a char boundary, so half-typed stamps are tried too.
        for (at, _) in nasty.char_indices() {
            for text in [&nasty[..at], &nasty[at..]] {
                let pasted = paste(text);
                for event in &pasted.events {
                    assert!(!event.body.is_empty());
                }
            }
        }
        for text in
            ["[", "[]", "]", "1", "1:", ":", "12:", "2026-", "2026-11-20T", "0000-01-01 00:00 x", "\r", "–"]
        {
            paste(text);
        }
        paste(&"9".repeat(100_000));
        paste(&format!("14:02 {}", "😀".repeat(100_000)));
    }
}
