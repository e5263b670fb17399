//! Admission: who may come in, and how often, decided before any work. The request's key
//! (`Authorization: Bearer <key>`) names its store and scopes; the store's settings give its rate limit and
//! retention; the shared counter decides the rate ([`Leases`] is the domain's decision). One cache per warm
//! instance keeps what was read of each key and its store for [`CACHE_TTL`], so a warm function reads
//! neither again; only keys that exist are cached, so a new key works at once, and a deleted key keeps
//! working for at most that long.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lambda_http::http::{header, HeaderMap, HeaderValue};

use super::problem::Problem;
use super::request_scope;
use collector_core::domain::api_key::{hash_key, looks_like_key, ApiKeyRecord, Scope};
use collector_core::domain::ids::StoreId;
use collector_core::domain::rate_limit::{Decision, Leases, RateStatus};
use collector_core::domain::store_settings::StoreSettings;
use collector_core::domain::trace::TraceContext;
use collector_core::ports::{AdmissionStore, Permits};

/// How long what was read of a key and its store is trusted.
pub const CACHE_TTL: Duration = Duration::from_secs(60);
const CACHE_MAX: usize = 1_024;

/// What the cache keeps of a key: its record and its store's settings.
#[derive(Debug, Clone)]
struct Known {
    record: ApiKeyRecord,
    settings: StoreSettings,
}

/// Who may come in, and how often: one instance's cache and rate leases, built once per cold start.
#[derive(Debug)]
pub struct Admission {
    known: Mutex<HashMap<String, (Known, Instant)>>,
    weight: u32,
    leases: Mutex<Leases>,
}

impl Default for Admission {
    /// Every request counts once against its store's limit.
    fn default() -> Self {
        Self::weighted(1)
    }
}

/// What the edge knows of a request when it arrives: its hop of the trace (continued from its
/// `traceparent`, or started here) and the time it is answered at, read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    pub trace: TraceContext,
    pub now: DateTime<Utc>,
}

/// The caller, once admitted: what the use case needs of the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub store_id: StoreId,
    /// The store's settings (rate limit, retention) as admission read them.
    pub settings: StoreSettings,
    pub trace: TraceContext,
    pub now: DateTime<Utc>,
}

/// Whose data a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant<'a> {
    /// The store a `/stores/{storeId}/…` path names (the raw segment).
    InPath(&'a str),
    /// The key's own store: the `/api/v1` endpoints, where an `X-TWC-Tenant` header, when sent, must name it.
    OfKey,
}

/// The tenant header of the Event Collector API.
pub const TENANT_HEADER: &str = "x-twc-tenant";

impl Admission {
    /// Each request counts `weight` times against its store's limit
    /// ([`collector_core::domain::rate_limit::BULK_WEIGHT`] for bulk ingest).
    pub fn weighted(weight: u32) -> Self {
        Self {
            known: Mutex::default(),
            weight,
            leases: Mutex::default(),
        }
    }

    /// 401 without a valid key; 403 when the key lacks `scope`; 429 over the store's rate limit. For a store
    /// in the path, 404 when the key belongs to another (exactly what a missing store answers, so store ids
    /// cannot be probed). For the key's own store, 403 when an `X-TWC-Tenant` header names another tenant
    /// (the caller named it, so this reveals nothing); the header names the key's store by its id or, as the
    /// Event Collector document has it (`{Tenant Name}`), by its name in any letter case. The scope is
    /// checked before the rate: a request that could never be served does not use up the store's quota.
    pub async fn authorize<K: AdmissionStore>(
        &self,
        keys: &K,
        arrival: Arrival,
        headers: &HeaderMap,
        (tenant, scope): (Tenant<'_>, Scope),
    ) -> Result<Caller, Problem> {
        let Known { record, settings } = self.known(keys, headers).await?;
        match tenant {
            Tenant::InPath(path_store) => {
                if StoreId::parse(path_store).ok().as_ref() != Some(&record.store_id) {
                    return Err(Problem::not_found("Store"));
                }
            }
            Tenant::OfKey => {
                if let Some(named) = headers.get(TENANT_HEADER) {
                    let named = String::from_utf8_lossy(named.as_bytes());
                    let named = named.trim();
                    let is_key_store =
                        StoreId::parse(named).ok().as_ref() == Some(&record.store_id) || settings.is_named(named);
                    if !is_key_store {
                        return Err(Problem::forbidden_tenant());
                    }
                }
            }
        }
        request_scope::note(|request| request.store_id = Some(record.store_id.clone()));
        if !record.scopes.contains(&scope) {
            return Err(Problem::forbidden(format!(
                "this key does not have the '{scope}' scope"
            )));
        }
        self.admit(keys, &record.store_id, settings.rate_limit_per_second)
            .await?;
        Ok(Caller {
            store_id: record.store_id,
            settings,
            trace: arrival.trace,
            now: arrival.now,
        })
    }

    /// The key's record and its store's settings, from the cache or the store; 401 when there is no valid
    /// key. Settings that cannot be read are the defaults (logged): the request is still served.
    async fn known<K: AdmissionStore>(&self, keys: &K, headers: &HeaderMap) -> Result<Known, Problem> {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|k| looks_like_key(k))
            .ok_or_else(Problem::unauthorized)?;
        let hash = hash_key(presented);
        let cached = self.known.lock().ok().and_then(|cache| {
            let (known, at) = cache.get(&hash)?;
            (at.elapsed() < CACHE_TTL).then(|| known.clone())
        });
        if let Some(known) = cached {
            return Ok(known);
        }
        let record = keys.find_api_key(&hash).await.map_err(|error| {
            tracing::error!(%error, "api key lookup failed");
            Problem::from_store_error(&error)
        })?;
        let record = record.ok_or_else(Problem::unauthorized)?;
        let settings = keys.store_settings(&record.store_id).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "store settings unavailable; defaults used");
            StoreSettings::default()
        });
        let known = Known { record, settings };
        if let Ok(mut cache) = self.known.lock() {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(hash, (known.clone(), Instant::now()));
        }
        Ok(known)
    }

    /// Admits the request under the store's `limit`, or answers 429 with `Retry-After`. When the counter
    /// cannot be reached the request is let through (logged): refusing every request because the limiter's
    /// own table is unavailable would turn its outage into ours.
    async fn admit<K: AdmissionStore>(&self, keys: &K, id: &StoreId, limit: u32) -> Result<(), Problem> {
        let now_ms = Utc::now().timestamp_millis();
        let decision = self.leases().decide(id, now_ms, limit, self.weight);
        let (window, mut permits) = match decision {
            Decision::Admit(status) => {
                note(status);
                return Ok(());
            }
            Decision::Refuse(status) => return Err(refuse(status)),
            Decision::Take { window, permits } => (window, permits),
        };
        loop {
            let taken = match keys.take_permits(id, window, permits, limit).await {
                Ok(taken) => taken,
                Err(error) => {
                    tracing::warn!(%error, "rate limit counter unavailable; request admitted");
                    self.leases().abandoned(id);
                    return Ok(());
                }
            };
            let mut leases = self.leases();
            match taken {
                Permits::Granted { counted } => {
                    note(leases.granted(id, window, permits, self.weight, counted, limit));
                    return Ok(());
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

    fn leases(&self) -> std::sync::MutexGuard<'_, Leases> {
        self.leases.lock().expect("leases lock")
    }
}

/// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds).
pub fn put_headers(headers: &mut HeaderMap, status: RateStatus) {
    headers.insert("ratelimit-limit", HeaderValue::from(status.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(status.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(status.reset_seconds));
}

/// The rate status goes on the answer's headers, success or problem.
fn note(status: RateStatus) {
    request_scope::note(|scope| scope.rate = Some(status));
}

fn refuse(status: RateStatus) -> Problem {
    note(status);
    Problem::rate_limited(status.limit, status.reset_seconds)
}
