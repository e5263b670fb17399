//! API keys: shown once, stored only as a SHA-256 hash, bound to one store, carrying scopes.

use std::fmt;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ids::StoreId;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "events:write")]
    EventsWrite,
    #[serde(rename = "subscriptions:read")]
    SubscriptionsRead,
    #[serde(rename = "subscriptions:write")]
    SubscriptionsWrite,
    #[serde(rename = "jobs:read")]
    JobsRead,
    #[serde(rename = "jobs:write")]
    JobsWrite,
    /// Erasing a customer's data: give it to the keys of people who handle erasure requests, not to event
    /// sources.
    #[serde(rename = "customers:erase")]
    CustomersErase,
    /// Reading the events a store sent (`GET /stores/{storeId}/events`).
    #[serde(rename = "events:read")]
    EventsRead,
    /// Reading customer profiles.
    #[serde(rename = "customers:read")]
    CustomersRead,
    /// Creating and updating customer profiles directly (`PUT /stores/{storeId}/customers`).
    #[serde(rename = "customers:write")]
    CustomersWrite,
}

impl Scope {
    pub const ALL: [Scope; 9] = [
        Scope::EventsWrite,
        Scope::SubscriptionsRead,
        Scope::SubscriptionsWrite,
        Scope::JobsRead,
        Scope::JobsWrite,
        Scope::CustomersErase,
        Scope::EventsRead,
        Scope::CustomersRead,
        Scope::CustomersWrite,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.to_string() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::EventsWrite => "events:write",
            Scope::SubscriptionsRead => "subscriptions:read",
            Scope::SubscriptionsWrite => "subscriptions:write",
            Scope::JobsRead => "jobs:read",
            Scope::JobsWrite => "jobs:write",
            Scope::CustomersErase => "customers:erase",
            Scope::EventsRead => "events:read",
            Scope::CustomersRead => "customers:read",
            Scope::CustomersWrite => "customers:write",
        })
    }
}

/// The stored side of a key. The key itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    /// SHA-256 of the key, hex. Keys are 256 random bits, so a fast hash is enough (no dictionary to try).
    pub key_hash: String,
    /// First characters of the hash, to name a key in lists and logs without revealing it.
    pub key_id: String,
    pub store_id: StoreId,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
}

/// A key as issued: the plaintext goes to the caller once, the record to the store.
pub struct IssuedKey {
    pub plaintext: String,
    pub record: ApiKeyRecord,
}

const KEY_PREFIX: &str = "ck_";

impl IssuedKey {
    /// Builds a key from 32 random bytes.
    pub fn new(random: [u8; 32], store_id: StoreId, scopes: Vec<Scope>, now: DateTime<Utc>) -> Self {
        let plaintext = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(random));
        let key_hash = hash_key(&plaintext);
        let record = ApiKeyRecord {
            key_id: key_hash[..12].to_owned(),
            key_hash,
            store_id,
            scopes,
            created_at: now,
        };
        Self { plaintext, record }
    }
}

/// The hash a presented key is looked up by.
pub fn hash_key(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

/// Whether a presented string can be a key at all (saves a lookup for garbage).
pub fn looks_like_key(candidate: &str) -> bool {
    candidate.len() == KEY_PREFIX.len() + 43
        && candidate.starts_with(KEY_PREFIX)
        && candidate[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_key_is_issued_should_store_only_its_hash() {
        let key = IssuedKey::new(
            [7; 32],
            StoreId::from_bytes([1; 12]),
            vec![Scope::EventsWrite],
            Utc::now(),
        );
        assert!(looks_like_key(&key.plaintext));
        assert_eq!(key.record.key_hash, hash_key(&key.plaintext));
        let stored = serde_json::to_string(&key.record).unwrap();
        assert!(!stored.contains(&key.plaintext[3..]));
        assert!(stored.contains("\"events:write\""));
    }

    #[test]
    fn when_scope_name_is_known_should_parse() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(&scope.to_string()), Some(scope));
        }
        assert_eq!(Scope::parse("admin"), None);
    }
}
