//! KMS: stored secrets are encrypted under the collector's key, bound to their store and subscription by the
//! encryption context, so a sealed value copied into another tenant's record does not open.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::Client;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::errors::{permanent, sdk_error};
use collector_core::ports::{SecretBox, SecretContext, StoreError};

/// Opened secrets are kept this long in a warm function, saving a `Decrypt` per delivery.
const OPENED_TTL: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct KmsSecretBox {
    client: Client,
    key_id: String,
    opened: Mutex<HashMap<(String, SecretContext), (String, Instant)>>,
}

impl KmsSecretBox {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
            opened: Mutex::default(),
        }
    }

    /// Seals with `key_id` (opens with the key the ciphertext names), through a client built from `sdk`.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, key_id: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), key_id)
    }
}

fn encryption_context(context: &SecretContext) -> HashMap<String, String> {
    HashMap::from([
        ("storeId".to_owned(), context.store_id.to_string()),
        ("subscriptionId".to_owned(), context.subscription_id.to_string()),
    ])
}

impl SecretBox for KmsSecretBox {
    async fn seal(&self, plaintext: &str, context: &SecretContext) -> Result<String, StoreError> {
        let output = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext.as_bytes()))
            .set_encryption_context(Some(encryption_context(context)))
            .send()
            .await
            .map_err(|e| sdk_error("seal secret", e))?;
        let blob = output
            .ciphertext_blob
            .ok_or_else(|| permanent("seal secret", "no ciphertext"))?;
        Ok(STANDARD.encode(blob.as_ref()))
    }

    async fn open(&self, sealed: &str, context: &SecretContext) -> Result<String, StoreError> {
        let cache_key = (sealed.to_owned(), context.clone());
        if let Some((plain, at)) = self.opened.lock().ok().and_then(|c| c.get(&cache_key).cloned()) {
            if at.elapsed() < OPENED_TTL {
                return Ok(plain);
            }
        }
        let blob = STANDARD.decode(sealed).map_err(|e| permanent("open secret", e))?;
        let output = self
            .client
            .decrypt()
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(Some(encryption_context(context)))
            .send()
            .await
            .map_err(|e| sdk_error("open secret", e))?;
        let plain = output
            .plaintext
            .ok_or_else(|| permanent("open secret", "no plaintext"))?;
        let plain = String::from_utf8(plain.into_inner()).map_err(|e| permanent("open secret", e))?;
        if let Ok(mut cache) = self.opened.lock() {
            if cache.len() > 1_024 {
                cache.clear();
            }
            cache.insert(cache_key, (plain.clone(), Instant::now()));
        }
        Ok(plain)
    }
}
