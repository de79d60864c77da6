//! Session ids that sort by creation time: `20261128-031500-ab12cd` (UTC).

use std::time::SystemTime;

use jiff::Timestamp;

/// `time` in UTC as `strftime` formats it (times outside jiff's range clamp to the epoch).
fn utc(time: SystemTime, format: &str) -> String {
    Timestamp::try_from(time)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime(format)
        .to_string()
}

/// RFC 3339 in UTC to the second, e.g. `2026-11-28T03:15:00Z`.
pub fn rfc3339_utc(time: SystemTime) -> String {
    utc(time, "%Y-%m-%dT%H:%M:%SZ")
}

/// A fresh id for a session created at `time`: the compact UTC time plus 6 random hex digits.
pub fn new_session_id(time: SystemTime) -> String {
    format!(
        "{}-{:06x}",
        utc(time, "%Y%m%d-%H%M%S"),
        fastrand::u32(..0x100_0000)
    )
}

/// Whether `text` has the shape of a session id (and so is safe as a file name).
pub fn is_session_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn times_format_as_utc_calendar_dates() {
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(rfc3339_utc(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(at(1_764_299_700)), "2025-11-28T03:15:00Z");
        assert_eq!(rfc3339_utc(at(951_868_799)), "2000-02-29T23:59:59Z");
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
        let ids: std::collections::BTreeSet<_> = (0..50).map(|_| new_session_id(time)).collect();
        assert!(ids.len() > 45, "{ids:?}");
    }

    #[test]
    fn path_like_text_is_not_an_id() {
        assert!(!is_session_id("../etc"));
        assert!(!is_session_id(""));
    }
}
