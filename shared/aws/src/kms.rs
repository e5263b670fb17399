//! KMS: stored secrets are encrypted under the collector's key, bound to their store and subscription by the
//! encryption context, so a sealed value copied into another tenant's record does not open.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::Client;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use super::errors::{permanent, sdk_error};
use collector_core::domain::ids::StoreId;
use collector_core::ports::{CursorSeal, SecretBox, SecretContext, StoreError, StoreSecretSeal};

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

impl KmsSecretBox {
    /// `plaintext` encrypted under the key, bound to `context`.
    async fn encrypt(
        &self,
        operation: &'static str,
        plaintext: &str,
        context: HashMap<String, String>,
    ) -> Result<Vec<u8>, StoreError> {
        let output = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext.as_bytes()))
            .set_encryption_context(Some(context))
            .send()
            .await
            .map_err(|e| sdk_error(operation, e))?;
        let blob = output
            .ciphertext_blob
            .ok_or_else(|| permanent(operation, "no ciphertext"))?;
        Ok(blob.into_inner())
    }
}

impl KmsSecretBox {
    /// What [`KmsSecretBox::encrypt`] sealed (base64) under `context`, as text.
    async fn decrypt_text(
        &self,
        operation: &'static str,
        sealed: &str,
        context: HashMap<String, String>,
    ) -> Result<String, StoreError> {
        let blob = STANDARD.decode(sealed).map_err(|e| permanent(operation, e))?;
        let output = self
            .client
            .decrypt()
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(Some(context))
            .send()
            .await
            .map_err(|e| sdk_error(operation, e))?;
        let plain = output.plaintext.ok_or_else(|| permanent(operation, "no plaintext"))?;
        String::from_utf8(plain.into_inner()).map_err(|e| permanent(operation, e))
    }
}

impl SecretBox for KmsSecretBox {
    async fn seal(&self, plaintext: &str, context: &SecretContext) -> Result<String, StoreError> {
        let blob = self
            .encrypt("seal secret", plaintext, encryption_context(context))
            .await?;
        Ok(STANDARD.encode(blob))
    }

    async fn open(&self, sealed: &str, context: &SecretContext) -> Result<String, StoreError> {
        let cache_key = (sealed.to_owned(), context.clone());
        if let Some((plain, at)) = self.opened.lock().ok().and_then(|c| c.get(&cache_key).cloned()) {
            if at.elapsed() < OPENED_TTL {
                return Ok(plain);
            }
        }
        let plain = self
            .decrypt_text("open secret", sealed, encryption_context(context))
            .await?;
        if let Ok(mut cache) = self.opened.lock() {
            if cache.len() > 1_024 {
                cache.clear();
            }
            cache.insert(cache_key, (plain.clone(), Instant::now()));
        }
        Ok(plain)
    }
}

/// What else is sealed under the same key is bound to its store and to its purpose (`listing-cursor`,
/// `email-identity`), so nothing opens as another store's, another purpose's or a subscription's secret.
fn purpose_context(store: &StoreId, purpose: &str) -> HashMap<String, String> {
    HashMap::from([
        ("storeId".to_owned(), store.to_string()),
        ("purpose".to_owned(), purpose.to_owned()),
    ])
}

fn cursor_context(store: &StoreId) -> HashMap<String, String> {
    purpose_context(store, "listing-cursor")
}

impl CursorSeal for KmsSecretBox {
    async fn seal(&self, store: &StoreId, state: &str) -> Result<String, StoreError> {
        let blob = self.encrypt("seal cursor", state, cursor_context(store)).await?;
        Ok(URL_SAFE_NO_PAD.encode(blob))
    }

    async fn open(&self, store: &StoreId, sealed: &str) -> Result<Option<String>, StoreError> {
        // KMS ciphertexts of a cursor are a few hundred bytes; anything far longer is not one.
        let Some(blob) = (sealed.len() <= 4_096)
            .then(|| URL_SAFE_NO_PAD.decode(sealed).ok())
            .flatten()
            .filter(|b| !b.is_empty())
        else {
            return Ok(None);
        };
        let opened = self
            .client
            .decrypt()
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(Some(cursor_context(store)))
            .send()
            .await;
        let output = match opened {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(refuses_ciphertext) => return Ok(None),
            Err(e) => return Err(sdk_error("open cursor", e)),
        };
        Ok(output
            .plaintext
            .and_then(|plain| String::from_utf8(plain.into_inner()).ok()))
    }
}

/// A store's own secrets: its SendGrid key.
fn store_secret_context(store: &StoreId) -> HashMap<String, String> {
    purpose_context(store, "email-identity")
}

impl StoreSecretSeal for KmsSecretBox {
    async fn seal_for_store(&self, store: &StoreId, plaintext: &str) -> Result<String, StoreError> {
        let blob = self
            .encrypt("seal store secret", plaintext, store_secret_context(store))
            .await?;
        Ok(STANDARD.encode(blob))
    }

    async fn open_for_store(&self, store: &StoreId, sealed: &str) -> Result<String, StoreError> {
        self.decrypt_text("open store secret", sealed, store_secret_context(store))
            .await
    }
}

/// KMS's answers to a ciphertext it did not make, or made under another context or key. A made-up blob
/// may name a key that is not ours: KMS then denies access rather than calling the ciphertext invalid.
fn refuses_ciphertext(error: &DecryptError) -> bool {
    use aws_sdk_kms::error::ProvideErrorMetadata;
    error.is_invalid_ciphertext_exception()
        || error.is_incorrect_key_exception()
        || error.is_not_found_exception()
        || error.code() == Some("AccessDeniedException")
}
