//! Date and time formatting shared by every page. Times are shown in UTC on the server and in the browser
//! alike, so that server-rendered HTML and hydration agree.
use chrono::{DateTime, Utc};

/// `Mon, Nov 23 · 09:00`
pub fn day_and_time(at: DateTime<Utc>) -> String {
    at.format("%a, %b %-d · %H:%M").to_string()
}

/// `09:00–10:30`
pub fn time_range(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!("{}–{}", from.format("%H:%M"), to.format("%H:%M"))
}

/// `Nov 23, 2026`
pub fn short_date(at: DateTime<Utc>) -> String {
    at.format("%b %-d, %Y").to_string()
}

/// `Monday, November 23`
pub fn long_day(at: DateTime<Utc>) -> String {
    at.format("%A, %B %-d").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_render_as_people_read_them() {
        let start = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 11, 23, 10, 30, 0).unwrap();
        assert_eq!(day_and_time(start), "Mon, Nov 23 · 09:00");
        assert_eq!(time_range(start, end), "09:00–10:30");
        assert_eq!(long_day(start), "Monday, November 23");
        assert_eq!(short_date(start), "Nov 23, 2026");
    }
}
