//! Formatting git timestamps without a date library.

use git2::Time;

/// `YYYY-MM-DD HH:MM:SS +ZZZZ` in the timestamp's own time zone.
pub fn date_time(time: Time) -> String {
    let offset = time.offset_minutes();
    let local = time.seconds() + i64::from(offset) * 60;
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} {}{:02}{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        if offset < 0 { '-' } else { '+' },
        offset.abs() / 60,
        offset.abs() % 60
    )
}

/// `YYYY-MM-DD` in the timestamp's own time zone.
pub fn date(time: Time) -> String {
    date_time(time).chars().take(10).collect()
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(date_time(Time::new(0, 0)), "1970-01-01 00:00:00 +0000");
        // 2024-02-29 12:34:56 UTC shown at +05:30 and at -08:00.
        assert_eq!(
            date_time(Time::new(1_709_210_096, 330)),
            "2024-02-29 18:04:56 +0530"
        );
        assert_eq!(
            date_time(Time::new(1_709_210_096, -480)),
            "2024-02-29 04:34:56 -0800"
        );
        assert_eq!(date(Time::new(951_782_400, 0)), "2000-02-29");
    }
}
