//! The rate limit at every endpoint's door, after the key and before the work. The decision is the domain's
//! ([`Leases`]); this module asks the shared counter when the decision says so and puts the `RateLimit-*`
//! headers on the answer, success or problem.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use lambda_http::http::{HeaderMap, HeaderValue};

use super::auth::KEY_CACHE_TTL;
use super::problem::Problem;
use super::request_scope;
use collector_core::domain::ids::StoreId;
use collector_core::domain::rate_limit::{Decision, Leases, RateStatus};
use collector_core::domain::store_settings::StoreSettings;
use collector_core::ports::{AdmissionStore, Permits};

/// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds).
pub fn put_headers(headers: &mut HeaderMap, status: RateStatus) {
    headers.insert("ratelimit-limit", HeaderValue::from(status.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(status.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(status.reset_seconds));
}

fn note(status: RateStatus) {
    request_scope::note(|scope| scope.rate = Some(status));
}

/// One instance's limiter: its leases and the settings of the stores it has seen.
#[derive(Debug)]
pub struct RateLimiter {
    weight: u32,
    leases: Mutex<Leases>,
    settings: Mutex<HashMap<StoreId, (StoreSettings, Instant)>>,
}

impl RateLimiter {
    /// `weight`: what one request of this function counts as ([`collector_core::domain::rate_limit::BULK_WEIGHT`]
    /// for bulk ingest, else 1).
    pub fn new(weight: u32) -> Self {
        Self {
            weight,
            leases: Mutex::default(),
            settings: Mutex::default(),
        }
    }

    /// The store's settings when its request fits its limit; 429 with `Retry-After` when not. When the
    /// counter cannot be reached the request is let through (logged): refusing every request because the
    /// limiter's own table is unavailable would turn its outage into ours.
    pub async fn admit<K: AdmissionStore>(&self, store: &K, id: &StoreId) -> Result<StoreSettings, Problem> {
        let settings = self.settings_of(store, id).await;
        let limit = settings.rate_limit_per_second;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let decision = self
            .leases
            .lock()
            .expect("leases lock")
            .decide(id, now_ms, limit, self.weight);
        let (window, mut permits) = match decision {
            Decision::Admit(status) => return admitted(status, settings),
            Decision::Refuse(status) => return Err(refuse(status)),
            Decision::Take { window, permits } => (window, permits),
        };
        loop {
            let taken = match store.take_permits(id, window, permits, limit).await {
                Ok(taken) => taken,
                Err(error) => {
                    tracing::warn!(%error, "rate limit counter unavailable; request admitted");
                    self.leases.lock().expect("leases lock").abandoned(id);
                    return Ok(settings);
                }
            };
            let mut leases = self.leases.lock().expect("leases lock");
            match taken {
                Permits::Granted { counted } => {
                    let status = leases.granted(id, window, permits, self.weight, counted, limit);
                    return admitted(status, settings);
                }
                Permits::Refused { counted } => {
                    match leases.refused(id, window, permits, self.weight, counted, limit) {
                        Ok(fewer) => permits = fewer,
                        Err(status) => return Err(refuse(status)),
                    }
                }
            }
        }
    }

    /// The store's settings, read once per [`KEY_CACHE_TTL`] per instance; defaults when the read fails.
    /// They ride along with the admission, so an endpoint needs no read of its own for them.
    pub(super) async fn settings_of<K: AdmissionStore>(&self, store: &K, id: &StoreId) -> StoreSettings {
        if let Some((settings, at)) = self.settings.lock().expect("settings lock").get(id) {
            if at.elapsed() < KEY_CACHE_TTL {
                return settings.clone();
            }
        }
        let settings = match store.store_settings(id).await {
            Ok(settings) => settings,
            Err(error) => {
                tracing::warn!(%error, "store settings unavailable; defaults used");
                return StoreSettings::default();
            }
        };
        let mut cache = self.settings.lock().expect("settings lock");
        if cache.len() >= 1_024 {
            cache.clear();
        }
        cache.insert(id.clone(), (settings.clone(), Instant::now()));
        settings
    }
}

fn admitted(status: RateStatus, settings: StoreSettings) -> Result<StoreSettings, Problem> {
    note(status);
    Ok(settings)
}

fn refuse(status: RateStatus) -> Problem {
    note(status);
    Problem::rate_limited(status.limit, status.reset_seconds)
}
