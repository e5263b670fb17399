//! Admitting a request: its key, its store's settings and rate, and the administration of stores and keys.

use std::future::Future;

use crate::domain::api_key::ApiKeyRecord;
use crate::domain::email_identity::EmailIdentity;
use crate::domain::ids::StoreId;
use crate::domain::store::{Setting, StoreRecord};
use crate::domain::store_settings::StoreSettings;

use super::StoreError;

/// What every request's admission reads: its key, its store's settings, and the store's rate counter.
pub trait AdmissionStore {
    /// The record of the key with this SHA-256 hash, or `None`. Never returns another store's key as this one.
    fn find_api_key(&self, key_hash: &str) -> impl Future<Output = Result<Option<ApiKeyRecord>, StoreError>> + Send;

    /// The store's settings; the defaults when it set none.
    fn store_settings(&self, store: &StoreId) -> impl Future<Output = Result<StoreSettings, StoreError>> + Send;

    /// Atomically adds `permits` to the store's count for `window` (an epoch second) if the count stays
    /// within `limit`, shared by every instance. `permits <= limit`. Counts expire on their own.
    fn take_permits(
        &self,
        store: &StoreId,
        window: i64,
        permits: u32,
        limit: u32,
    ) -> impl Future<Output = Result<Permits, StoreError>> + Send;
}

/// The rate counter's answer, with the window's count after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permits {
    Granted { counted: u32 },
    Refused { counted: u32 },
}

/// Store and key administration: what the `storeadmin` command (and the tests' fixtures) do.
pub trait StoreAdministration {
    /// Creates the store; an error if its id exists.
    fn create_store(&self, store: &StoreRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores a key's record and its entry in the store's list of keys together; an error if either exists.
    fn put_api_key(&self, record: &ApiKeyRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets one of the store's settings; `false` when the store does not exist.
    fn set_store_setting(
        &self,
        store: &StoreId,
        setting: Setting,
        value: u32,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Sets the store's email identity (its key already sealed); `false` when the store does not exist.
    fn set_email_identity(
        &self,
        store: &StoreId,
        identity: &EmailIdentity,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The store's keys, oldest first.
    fn api_keys(&self, store: &StoreId) -> impl Future<Output = Result<Vec<ApiKeyRecord>, StoreError>> + Send;

    /// Revokes the store's key `key_id`: from then on it authenticates nothing, and running it again finishes
    /// a revocation cut short. `false` when the store has no such key (another store's included).
    fn revoke_api_key(&self, store: &StoreId, key_id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
