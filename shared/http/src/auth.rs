//! Authentication and the tenant check: `Authorization: Bearer <key>` → the key's store and scopes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lambda_http::http::{header, HeaderMap};

use super::problem::Problem;
use super::rate_limit::RateLimiter;
use super::request_scope;
use collector_core::domain::api_key::{hash_key, looks_like_key, ApiKeyRecord, Scope};
use collector_core::domain::ids::StoreId;
use collector_core::domain::store_settings::StoreSettings;
use collector_core::ports::AdmissionStore;

/// Known keys, kept briefly so a warm function does not read the key on every request. Only keys that
/// exist are cached, so a new key works at once; a deleted key keeps working for at most [`KEY_CACHE_TTL`].
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(60);
const KEY_CACHE_MAX: usize = 1_024;

#[derive(Debug, Default)]
struct KeyCache(Mutex<HashMap<String, (ApiKeyRecord, Instant)>>);

impl KeyCache {
    fn get(&self, hash: &str) -> Option<ApiKeyRecord> {
        let cache = self.0.lock().ok()?;
        cache
            .get(hash)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(record, _)| record.clone())
    }

    fn put(&self, record: &ApiKeyRecord) {
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= KEY_CACHE_MAX {
                cache.retain(|_, (_, at)| at.elapsed() < KEY_CACHE_TTL);
                if cache.len() >= KEY_CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(record.key_hash.clone(), (record.clone(), Instant::now()));
        }
    }
}

/// Who may come in, and how often: one instance's key cache and rate limiter, built once per cold start.
#[derive(Debug)]
pub struct Admission {
    keys: KeyCache,
    limiter: RateLimiter,
}

impl Default for Admission {
    /// Every request counts once against its store's limit.
    fn default() -> Self {
        Self::weighted(1)
    }
}

impl Admission {
    /// Each request counts `weight` times against its store's limit.
    pub fn weighted(weight: u32) -> Self {
        Self {
            keys: KeyCache::default(),
            limiter: RateLimiter::new(weight),
        }
    }
}

/// The caller, once authenticated and checked against the store in the path.
#[derive(Debug, Clone)]
pub struct Caller {
    pub store_id: StoreId,
    /// The store's settings (rate limit, retention), as the admission read them.
    pub settings: StoreSettings,
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

/// 401 without a valid key; 403 when the key lacks `scope`; 429 over the store's rate limit. For a store in
/// the path, 404 when the key belongs to another (exactly what a missing store answers, so store ids cannot
/// be probed). For the key's own store, 403 when an `X-TWC-Tenant` header names another tenant (the caller
/// named it, so this reveals nothing); the header names the key's store by its id or, as the Event Collector
/// document has it (`{Tenant Name}`), by its name in any letter case.
pub async fn authorize<K: AdmissionStore>(
    keys: &K,
    admission: &Admission,
    headers: &HeaderMap,
    tenant: Tenant<'_>,
    scope: Scope,
) -> Result<Caller, Problem> {
    let record = authenticate(keys, &admission.keys, headers).await?;
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
                let is_key_store = StoreId::parse(named).ok().as_ref() == Some(&record.store_id)
                    || admission
                        .limiter
                        .settings_of(keys, &record.store_id)
                        .await
                        .is_named(named);
                if !is_key_store {
                    return Err(Problem::forbidden_tenant());
                }
            }
        }
    }
    admit(keys, admission, record, scope).await
}

/// The scope, then the rate limit: a request that could never be served does not use up the store's quota.
async fn admit<K: AdmissionStore>(
    keys: &K,
    admission: &Admission,
    record: ApiKeyRecord,
    scope: Scope,
) -> Result<Caller, Problem> {
    request_scope::note(|request| request.store_id = Some(record.store_id.clone()));
    if !record.scopes.contains(&scope) {
        return Err(Problem::forbidden(format!(
            "this key does not have the '{scope}' scope"
        )));
    }
    let settings = admission.limiter.admit(keys, &record.store_id).await?;
    Ok(Caller {
        store_id: record.store_id,
        settings,
    })
}

/// The key's record, from the cache or the store; 401 when there is no valid key.
async fn authenticate<K: AdmissionStore>(
    keys: &K,
    cache: &KeyCache,
    headers: &HeaderMap,
) -> Result<ApiKeyRecord, Problem> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|k| looks_like_key(k))
        .ok_or_else(Problem::unauthorized)?;
    let hash = hash_key(presented);
    let record = match cache.get(&hash) {
        Some(record) => record,
        None => {
            let record = keys.find_api_key(&hash).await.map_err(|error| {
                tracing::error!(%error, "api key lookup failed");
                Problem::from_store_error(&error)
            })?;
            let record = record.ok_or_else(Problem::unauthorized)?;
            cache.put(&record);
            record
        }
    };
    Ok(record)
}
