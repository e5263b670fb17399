//! What a store may set for itself. Kept on the store's item; every field has a default, so a store that
//! sets nothing behaves as the API documents.

use serde::{Deserialize, Serialize};

use super::rate_limit::DEFAULT_PER_SECOND;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreSettings {
    /// Requests per second across all of the store's keys and endpoints.
    #[serde(default = "default_rate_limit")]
    pub rate_limit_per_second: u32,
}

fn default_rate_limit() -> u32 {
    DEFAULT_PER_SECOND
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            rate_limit_per_second: DEFAULT_PER_SECOND,
        }
    }
}
