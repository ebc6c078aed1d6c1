use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::macros::format_description;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch, UTC: how every instant is stored and passed around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(since_epoch.as_millis() as i64)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn plus(self, duration: Duration) -> Self {
        Timestamp(self.0.saturating_add(duration.as_millis() as i64))
    }

    pub fn elapsed_since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0).max(0) as u64)
    }

    /// RFC 3339 with milliseconds and `Z`, as the hosted service writes `created`.
    pub fn to_rfc3339(self) -> String {
        let instant = OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        instant.format(RFC3339_MILLIS).unwrap_or_default()
    }
}

const RFC3339_MILLIS: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_has_millis_and_z() {
        assert_eq!(
            Timestamp(1_681_854_588_688).to_rfc3339(),
            "2023-04-18T21:49:48.688Z"
        );
        assert_eq!(
            Timestamp(1_681_854_588_000).to_rfc3339(),
            "2023-04-18T21:49:48.000Z"
        );
        assert_eq!(
            Timestamp(1_681_854_588_070).to_rfc3339(),
            "2023-04-18T21:49:48.070Z"
        );
    }
}
