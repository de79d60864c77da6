//! Session ids that sort by creation time: `20261128-031500-ab12cd` (UTC).

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date and time of day in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// Year, e.g. 2026.
    pub year: i64,
    /// Month 1–12.
    pub month: u32,
    /// Day of month 1–31.
    pub day: u32,
    /// Hour 0–23.
    pub hour: u32,
    /// Minute 0–59.
    pub minute: u32,
    /// Second 0–59.
    pub second: u32,
}

impl UtcTime {
    /// Converts whole seconds since the Unix epoch (Howard Hinnant's civil-from-days).
    pub fn from_unix_seconds(seconds: i64) -> Self {
        let days = seconds.div_euclid(86_400);
        let second_of_day = seconds.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        UtcTime {
            year,
            month: month as u32,
            day: day as u32,
            hour: (second_of_day / 3600) as u32,
            minute: (second_of_day / 60 % 60) as u32,
            second: (second_of_day % 60) as u32,
        }
    }

    /// The time `time` in UTC (times before the epoch clamp to it).
    pub fn from_system_time(time: SystemTime) -> Self {
        let seconds = time
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0);
        Self::from_unix_seconds(i64::try_from(seconds).unwrap_or(i64::MAX))
    }

    /// RFC 3339, e.g. `2026-11-28T03:15:00Z`.
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// Compact form used in ids, e.g. `20261128-031500`.
    pub fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// A fresh id for a session created at `time`: the compact UTC time plus 6 random hex digits.
pub fn new_session_id(time: SystemTime) -> String {
    format!(
        "{}-{:06x}",
        UtcTime::from_system_time(time).compact(),
        random_u64() & 0xff_ffff
    )
}

/// Whether `text` has the shape of a session id (and so is safe as a file name).
pub fn is_session_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || c == '-')
}

/// A random number from the standard library's randomly seeded hasher; no crypto needed.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    if let Ok(elapsed) = SystemTime::now().duration_since(UNIX_EPOCH) {
        hasher.write_u128(elapsed.as_nanos());
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn unix_seconds_convert_to_calendar_dates() {
        assert_eq!(
            UtcTime::from_unix_seconds(0).rfc3339(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            UtcTime::from_unix_seconds(1_764_299_700).rfc3339(),
            "2025-11-28T03:15:00Z"
        );
        assert_eq!(
            UtcTime::from_unix_seconds(951_868_799).rfc3339(),
            "2000-02-29T23:59:59Z"
        );
    }

    #[test]
    fn ids_have_the_documented_shape_and_sort_by_time() {
        let earlier = new_session_id(UNIX_EPOCH + Duration::from_secs(1_795_835_700));
        assert!(earlier.starts_with("20261128-031500-"), "{earlier}");
        assert_eq!(earlier.len(), "20261128-031500-ab12cd".len());
        assert!(is_session_id(&earlier));
        let later = new_session_id(UNIX_EPOCH + Duration::from_secs(1_795_835_701));
        assert!(earlier < later);
    }

    #[test]
    fn ids_from_the_same_second_differ() {
        let time = UNIX_EPOCH + Duration::from_secs(1_795_835_700);
        assert_ne!(new_session_id(time), new_session_id(time));
    }

    #[test]
    fn path_like_text_is_not_an_id() {
        assert!(!is_session_id("../etc"));
        assert!(!is_session_id(""));
    }
}
