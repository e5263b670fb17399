//! What a store may set for itself. Kept on the store's item; every field has a default, so a store that
//! sets nothing behaves as the API documents.

use serde::{Deserialize, Serialize};

use super::rate_limit::DEFAULT_PER_SECOND;

/// How long a store's events are kept when it sets nothing: 13 months, so a year-on-year comparison works.
pub const DEFAULT_RETENTION_DAYS: u32 = 395;
/// The bounds of a store's own retention.
pub const RETENTION_DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=3_650;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreSettings {
    /// Requests per second across all of the store's keys and endpoints.
    #[serde(default = "default_rate_limit")]
    pub rate_limit_per_second: u32,
    /// Days events, their delivery records, their dedupe records and job runs are kept (DynamoDB TTL
    /// `expiresAt`).
    #[serde(default = "default_retention")]
    pub retention_days: u32,
}

fn default_retention() -> u32 {
    DEFAULT_RETENTION_DAYS
}

fn default_rate_limit() -> u32 {
    DEFAULT_PER_SECOND
}

impl StoreSettings {
    /// How long the store's records are kept.
    pub fn retention(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.retention_days))
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            rate_limit_per_second: DEFAULT_PER_SECOND,
            retention_days: DEFAULT_RETENTION_DAYS,
        }
    }
}
