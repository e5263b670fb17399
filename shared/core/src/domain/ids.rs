//! Identifier newtypes. Each validates on construction, so a value of the type is always well formed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an identifier of the wanted kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} must be 24 lowercase hexadecimal characters")]
pub struct InvalidId(&'static str);

macro_rules! object_id {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Accepts the 24-hex-character ObjectId form (upper case is folded to lower case).
            pub fn parse(raw: &str) -> Result<Self, InvalidId> {
                if raw.len() == 24 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(Self(raw.to_ascii_lowercase()))
                } else {
                    Err(InvalidId($label))
                }
            }

            /// Wraps bytes made by an [`crate::ports::IdGenerator`].
            pub fn from_bytes(bytes: [u8; 12]) -> Self {
                Self(hex::encode(bytes))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(raw: String) -> Result<Self, InvalidId> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

object_id!(
    /// A store (tenant). Every stored key starts with it.
    StoreId,
    "store id"
);
object_id!(
    /// A customer of a store. Same form as Redo's customer ObjectId, so ids issued elsewhere in that form can be adopted.
    CustomerId,
    "customer id"
);
object_id!(
    /// A stored event. The first four bytes are the creation time in seconds, so ids sort roughly by time.
    EventId,
    "event id"
);

object_id!(
    /// An event subscription of a store.
    SubscriptionId,
    "subscription id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_id_is_24_hex_should_parse_and_fold_case() {
        let id = CustomerId::parse("665F1A2B3C4D5E6F7A8B9C0D").unwrap();
        assert_eq!(id.as_str(), "665f1a2b3c4d5e6f7a8b9c0d");
    }

    #[test]
    fn when_id_has_wrong_length_or_letters_should_fail() {
        assert!(StoreId::parse("665f1a2b3c4d5e6f7a8b9c0").is_err());
        assert!(StoreId::parse("665f1a2b3c4d5e6f7a8b9c0z").is_err());
        assert!(serde_json::from_str::<EventId>("\"nope\"").is_err());
    }
}
