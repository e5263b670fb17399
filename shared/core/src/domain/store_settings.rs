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
    /// The store's name, as it was created: the `{Tenant Name}` an `X-TWC-Tenant` header may carry instead of
    /// the store id. Not a setting; it rides along because it lives on the same item.
    #[serde(default)]
    pub name: String,
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

    /// Whether `tenant` is the store's name, letter case aside (Unicode's, so `CAFÉ` names `Café`).
    pub fn is_named(&self, tenant: &str) -> bool {
        let tenant = tenant.trim();
        !tenant.is_empty() && tenant.to_lowercase() == self.name.trim().to_lowercase()
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            rate_limit_per_second: DEFAULT_PER_SECOND,
            retention_days: DEFAULT_RETENTION_DAYS,
            name: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_a_tenant_names_the_store_should_match_whatever_the_letter_case() {
        let settings = StoreSettings {
            name: "Café Olé".to_owned(),
            ..StoreSettings::default()
        };
        assert!(settings.is_named("Café Olé"));
        assert!(settings.is_named(" CAFÉ OLÉ "));
        assert!(!settings.is_named("Cafe Ole"));
        assert!(!settings.is_named("Café"));
        assert!(
            !StoreSettings::default().is_named(""),
            "a store without a name is named by nothing"
        );
    }
}
