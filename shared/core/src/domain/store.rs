//! A store (tenant) as `storeadmin` creates it, and the settings an operator may change on it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::StoreId;

/// A store, as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreRecord {
    pub store_id: StoreId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A setting an operator sets on a store ([`super::store_settings::StoreSettings`] reads them back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Requests per second across the store's keys and endpoints.
    RateLimitPerSecond,
    /// Days the store's events and their records are kept.
    RetentionDays,
}

impl Setting {
    /// Its name on the store's record (the field of `StoreSettings`).
    pub fn name(self) -> &'static str {
        match self {
            Setting::RateLimitPerSecond => "rateLimitPerSecond",
            Setting::RetentionDays => "retentionDays",
        }
    }

    /// What its value counts.
    pub fn unit(self) -> &'static str {
        match self {
            Setting::RateLimitPerSecond => "requests per second",
            Setting::RetentionDays => "days",
        }
    }
}
