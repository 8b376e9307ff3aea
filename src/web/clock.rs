//! Time zones: every time is stored in UTC and shown in the reader's zone
//! (an IANA name kept on their account); times typed in forms are read in
//! the writer's zone.

use jiff::{Timestamp, civil, tz::TimeZone};
use time::{
    OffsetDateTime, PrimitiveDateTime, format_description::well_known::Rfc3339, macros::format_description,
};

/// A reader's or writer's zone, by IANA name.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone { name: "UTC".into(), tz: TimeZone::UTC }
    }

    /// The zone with this IANA name, like `Europe/Paris`.
    pub fn parse(name: &str) -> Result<Zone, String> {
        let name = name.trim();
        TimeZone::get(name)
            .map(|tz| Zone { name: name.to_owned(), tz })
            .map_err(|_| format!("{name:?} is not a time zone name like Europe/Paris or America/New_York."))
    }

    /// The zone, or UTC if the stored name no longer exists.
    pub fn or_utc(name: &str) -> Zone {
        Zone::parse(name).unwrap_or_else(|_| Zone::utc())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `2026-11-20 15:02 CET`
    pub fn format(&self, at: &OffsetDateTime) -> String {
        self.format_with(at, "%Y-%m-%d %H:%M %Z")
    }

    /// `15:02`
    pub fn time_of_day(&self, at: &OffsetDateTime) -> String {
        self.format_with(at, "%H:%M")
    }

    /// The value a `datetime-local` input shows for `at` in this zone.
    pub fn input(&self, at: &OffsetDateTime) -> String {
        self.format_with(at, "%Y-%m-%dT%H:%M")
    }

    /// The local date of `at` in this zone.
    pub fn date_of(&self, at: &OffsetDateTime) -> time::Date {
        let local = self.local(at);
        let month = time::Month::try_from(local.month() as u8).unwrap_or(time::Month::January);
        time::Date::from_calendar_date(local.year() as i32, month, local.day() as u8).unwrap_or(at.date())
    }

    /// A wall-clock time in this zone as UTC; `None` in a DST gap (a time
    /// that does not exist there). In a fold, the earlier of the two.
    pub fn to_utc(&self, local: PrimitiveDateTime) -> Option<OffsetDateTime> {
        let civil = civil::DateTime::new(
            i16::try_from(local.year()).ok()?,
            local.month() as i8,
            local.day() as i8,
            local.hour() as i8,
            local.minute() as i8,
            local.second() as i8,
            0,
        )
        .ok()?;
        let ambiguous = self.tz.to_ambiguous_zoned(civil);
        if matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
            return None;
        }
        let zoned = ambiguous.earlier().ok()?;
        OffsetDateTime::from_unix_timestamp(zoned.timestamp().as_second()).ok()
    }

    /// Reads what a `datetime-local` input sent, as a time in this zone (an
    /// RFC 3339 time with its own offset is taken as it is).
    pub fn read_local(&self, raw: &str) -> Result<OffsetDateTime, String> {
        if let Ok(at) = OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339) {
            return Ok(at);
        }
        let typed = parse_moment(raw)?;
        let wall = PrimitiveDateTime::new(typed.date(), typed.time());
        self.to_utc(wall)
            .ok_or_else(|| format!("{} does not exist in {} (the clocks skip it).", raw.trim(), self.name))
    }

    fn local(&self, at: &OffsetDateTime) -> civil::DateTime {
        self.timestamp(at).to_zoned(self.tz.clone()).datetime()
    }

    fn timestamp(&self, at: &OffsetDateTime) -> Timestamp {
        Timestamp::from_second(at.unix_timestamp()).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn format_with(&self, at: &OffsetDateTime, format: &str) -> String {
        self.timestamp(at).to_zoned(self.tz.clone()).strftime(format).to_string()
    }
}

/// A moment typed in a form (`2026-11-22T14:02`, read as UTC) or sent to
/// the API (RFC 3339, with its offset).
pub fn parse_moment(raw: &str) -> Result<OffsetDateTime, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter a date and time.".into());
    }
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(at);
    }
    let minutes = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(raw, &minutes)
        .or_else(|_| PrimitiveDateTime::parse(raw, &seconds))
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| "Enter a date and time like 2026-11-22T14:02.".into())
}

/// A moment as the history records it.
pub fn moment_text(at: &Option<OffsetDateTime>) -> String {
    at.and_then(|at| at.format(&Rfc3339).ok()).unwrap_or_default()
}

/// Every zone name a user can choose.
pub fn zone_names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db().available().map(|name| name.to_string()).collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn moments_come_from_forms_and_from_the_api() {
        assert_eq!(parse_moment("2026-11-22T14:02").unwrap(), datetime!(2026-11-22 14:02 UTC));
        assert_eq!(parse_moment("2026-11-22T14:02:30").unwrap(), datetime!(2026-11-22 14:02:30 UTC));
        assert_eq!(parse_moment("2026-11-22T15:02:00+01:00").unwrap(), datetime!(2026-11-22 14:02 UTC));
        for bad in ["", "yesterday", "2026-13-01T00:00", "14:02"] {
            assert!(parse_moment(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times_are_shown_in_the_readers_zone() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        let at = datetime!(2026-11-20 14:02 UTC);
        assert_eq!(paris.format(&at), "2026-11-20 15:02 CET");
        assert_eq!(paris.time_of_day(&at), "15:02");
        assert_eq!(paris.input(&at), "2026-11-20T15:02");
        assert_eq!(Zone::utc().format(&at), "2026-11-20 14:02 UTC");
    }

    #[test]
    fn typed_times_are_read_in_the_writers_zone() {
        let new_york = Zone::parse("America/New_York").unwrap();
        let utc = new_york.to_utc(datetime!(2026-07-01 09:30)).unwrap();
        assert_eq!(utc, datetime!(2026-07-01 13:30 UTC));
        // 2026-03-08 02:30 does not exist in New York: the clocks jump from 02:00 to 03:00.
        assert_eq!(new_york.to_utc(datetime!(2026-03-08 02:30)), None);
    }

    #[test]
    fn the_local_date_can_differ_from_the_utc_date() {
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        assert_eq!(tokyo.date_of(&datetime!(2026-11-20 20:00 UTC)), time::macros::date!(2026 - 11 - 21));
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert!(zone_names().iter().any(|name| name == "Europe/Paris"));
    }
}
