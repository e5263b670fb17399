//! Store and key administration, used by the `storeadmin` command and by tests alike.

use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};

use crate::domain::api_key::{ApiKeyRecord, IssuedKey, Scope};
use crate::domain::email_identity::{EmailIdentity, Sender};
use crate::domain::ids::StoreId;
use crate::domain::rate_limit::PER_SECOND_RANGE;
use crate::domain::store::{Setting, StoreRecord};
use crate::domain::store_settings::RETENTION_DAYS_RANGE;
use crate::ports::{IdGenerator, StoreAdministration, StoreError, StoreSecretSeal};

/// Creates a store named `name`. Returns its record.
pub async fn create_store<T: StoreAdministration>(
    table: &T,
    ids: &dyn IdGenerator,
    name: &str,
    now: DateTime<Utc>,
) -> Result<StoreRecord, StoreError> {
    let store = StoreRecord {
        store_id: StoreId::from_bytes(ids.object_id(now)),
        name: name.to_owned(),
        created_at: now,
    };
    table.create_store(&store).await?;
    Ok(store)
}

/// Sets `store`'s email identity from what an operator sent (`domain::email_identity::parse_identity`),
/// its SendGrid key sealed for the store. Returns the identity as stored (the key sealed).
pub async fn set_email_identity<T: StoreAdministration>(
    (table, seal): (&T, &impl StoreSecretSeal),
    store: &StoreId,
    input: Sender,
    now: DateTime<Utc>,
) -> Result<EmailIdentity, String> {
    let sealed_api_key = seal
        .seal_for_store(store, &input.api_key)
        .await
        .map_err(|e| e.to_string())?;
    let identity = EmailIdentity {
        sealed_api_key,
        from_email: input.from_email,
        from_name: input.from_name,
        reply_to: input.reply_to,
        unsubscribe_group_id: input.unsubscribe_group_id,
        updated_at: now,
    };
    match table.set_email_identity(store, &identity).await {
        Ok(true) => Ok(identity),
        Ok(false) => Err(format!("store {store} does not exist")),
        Err(error) => Err(error.to_string()),
    }
}

/// Sets `store`'s rate limit, requests per second across its keys and endpoints. Running functions pick it up
/// within a minute (their settings cache).
pub async fn set_rate_limit<T: StoreAdministration>(table: &T, store: &StoreId, per_second: u32) -> Result<(), String> {
    set_setting(table, store, Setting::RateLimitPerSecond, per_second, PER_SECOND_RANGE).await
}

/// Sets how many days `store`'s events (with their delivery and dedupe records) are kept from now on; events
/// already stored keep the expiry they were stored with.
pub async fn set_retention<T: StoreAdministration>(table: &T, store: &StoreId, days: u32) -> Result<(), String> {
    set_setting(table, store, Setting::RetentionDays, days, RETENTION_DAYS_RANGE).await
}

async fn set_setting<T: StoreAdministration>(
    table: &T,
    store: &StoreId,
    setting: Setting,
    value: u32,
    range: RangeInclusive<u32>,
) -> Result<(), String> {
    if !range.contains(&value) {
        return Err(format!(
            "{} must be {} to {} {}",
            setting.name(),
            range.start(),
            range.end(),
            setting.unit()
        ));
    }
    match table.set_store_setting(store, setting, value).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("store {store} does not exist")),
        Err(error) => Err(error.to_string()),
    }
}

/// Issues a key for `store` with `scopes`. The plaintext is in the result and nowhere else.
pub async fn issue_key<T: StoreAdministration>(
    table: &T,
    ids: &dyn IdGenerator,
    store: &StoreId,
    scopes: Vec<Scope>,
    now: DateTime<Utc>,
) -> Result<IssuedKey, StoreError> {
    let key = IssuedKey::new(ids.secret(), store.clone(), scopes, now);
    table.put_api_key(&key.record).await?;
    Ok(key)
}

/// `store`'s keys, oldest first.
pub async fn list_keys<T: StoreAdministration>(table: &T, store: &StoreId) -> Result<Vec<ApiKeyRecord>, StoreError> {
    table.api_keys(store).await
}

/// Revokes `store`'s key `key_id`; an error when the store has no such key (another store's key included).
pub async fn revoke_key<T: StoreAdministration>(table: &T, store: &StoreId, key_id: &str) -> Result<(), String> {
    match table.revoke_api_key(store, key_id).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("store {store} has no key {key_id}")),
        Err(error) => Err(error.to_string()),
    }
}
