//! Event subscriptions: what a store subscribes to, where it goes, and which events match.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{StoreId, SubscriptionId};

/// The entity types of the Event Collector API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityType {
    Customer,
    InventoryLevel,
    InventoryLocation,
    Order,
    Price,
    Product,
    VariantProduct,
    Wishlist,
    /// The collector's own news about a store's subscriptions (`subscription.deactivated`,
    /// `delivery.exhausted`): subscribed to, never sent as an entity event.
    Operations,
}

impl EntityType {
    pub const ALL: [EntityType; 9] = [
        EntityType::Customer,
        EntityType::InventoryLevel,
        EntityType::InventoryLocation,
        EntityType::Order,
        EntityType::Price,
        EntityType::Product,
        EntityType::VariantProduct,
        EntityType::Wishlist,
        EntityType::Operations,
    ];

    /// `CUSTOMER`, `VARIANT_PRODUCT` …
    pub fn name(self) -> &'static str {
        match self {
            EntityType::Customer => "CUSTOMER",
            EntityType::InventoryLevel => "INVENTORY_LEVEL",
            EntityType::InventoryLocation => "INVENTORY_LOCATION",
            EntityType::Order => "ORDER",
            EntityType::Price => "PRICE",
            EntityType::Product => "PRODUCT",
            EntityType::VariantProduct => "VARIANT_PRODUCT",
            EntityType::Wishlist => "WISHLIST",
            EntityType::Operations => "OPERATIONS",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == raw)
    }
}

/// What happened to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operation {
    Create,
    Change,
    Delete,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Change => "CHANGE",
            Operation::Delete => "DELETE",
        }
    }

    /// The action of an outbound `type` (`customer.created`).
    pub fn action(self) -> &'static str {
        match self {
            Operation::Create => "created",
            Operation::Change => "updated",
            Operation::Delete => "deleted",
        }
    }
}

/// What an outbound message is about: an entity, or a custom (Redo-style) event by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Entity(EntityType),
    CustomEvent(String),
    /// An operational message of this kind (`subscription.deactivated`).
    Operational(String),
}

/// How the dispatcher reaches an AWS destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum AwsAccess {
    /// The collector's own role; the destination's resource policy grants it access.
    #[default]
    CollectorRole,
    /// A role in the subscriber's account, assumed with an external id (the recommended cross-account setup).
    #[serde(rename_all = "camelCase")]
    AssumeRole {
        role_arn: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<String>,
    },
    /// Long-lived keys, kept for compatibility with the original API. Stored sealed (KMS); never returned.
    #[serde(rename_all = "camelCase")]
    AccessKey {
        /// The last four characters of the access key id, so users can tell which key is set.
        access_key_hint: String,
        /// `{"accessKey","accessSecret"}` as JSON, sealed with the store and subscription as context.
        sealed: String,
    },
}

/// Where matching events are delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Destination {
    #[serde(rename_all = "camelCase")]
    Sqs {
        queue_url: String,
        region: String,
        #[serde(default)]
        access: AwsAccess,
    },
    #[serde(rename_all = "camelCase")]
    Sns {
        topic_arn: String,
        region: String,
        #[serde(default)]
        access: AwsAccess,
    },
    #[serde(rename_all = "camelCase")]
    Webhook {
        url: String,
        /// The signing secret (`whsec_…`), sealed.
        sealed_secret: String,
        /// The secret before the last rotation, also sealed, and until when messages are signed with it too.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_sealed_secret: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret_expires_at: Option<DateTime<Utc>>,
    },
}

impl Destination {
    pub fn type_name(&self) -> &'static str {
        match self {
            Destination::Sqs { .. } => "SQS",
            Destination::Sns { .. } => "SNS",
            Destination::Webhook { .. } => "WEBHOOK",
        }
    }
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub store_id: StoreId,
    pub subscription_id: SubscriptionId,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<EntityType>,
    #[serde(default)]
    pub subscribe_create: bool,
    #[serde(default)]
    pub subscribe_change: bool,
    #[serde(default)]
    pub subscribe_delete: bool,
    /// Custom event names (`"Order Placed"`), or `"*"` for every custom event.
    #[serde(default)]
    pub event_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub destination: Destination,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<DateTime<Utc>>,
}

/// Matches every custom event name.
pub const ANY_EVENT_NAME: &str = "*";

impl Subscription {
    /// Whether an event about `subject` with `operation`, received at `received_at`, goes to this subscription.
    /// Events received before the subscription existed do not (a redriven old event reaches only the
    /// subscriptions that existed when it arrived).
    pub fn matches(&self, subject: &Subject, operation: Operation, received_at: DateTime<Utc>) -> bool {
        self.active && self.would_match(subject, operation, received_at)
    }

    /// [`Subscription::matches`] as if the subscription were active: what an inactive one misses.
    pub fn would_match(&self, subject: &Subject, operation: Operation, received_at: DateTime<Utc>) -> bool {
        received_at >= self.created_at && self.filters_take(subject, operation)
    }

    /// Whether this subscription, active, takes messages about `subject` with `operation`, whenever the
    /// event arrived: what a replay or a backfill sends.
    pub fn wants(&self, subject: &Subject, operation: Operation) -> bool {
        self.active && self.filters_take(subject, operation)
    }

    /// Whether the subscription's entity type, operations and event names take messages about `subject`.
    fn filters_take(&self, subject: &Subject, operation: Operation) -> bool {
        match subject {
            Subject::Entity(entity) => {
                self.entity_type == Some(*entity)
                    && match operation {
                        Operation::Create => self.subscribe_create,
                        Operation::Change => self.subscribe_change,
                        Operation::Delete => self.subscribe_delete,
                    }
            }
            Subject::CustomEvent(name) => self.event_names.iter().any(|n| n == name || n == ANY_EVENT_NAME),
            // Only by name or by the OPERATIONS type: "*" means every custom event, not the collector's news.
            Subject::Operational(kind) => {
                (self.entity_type == Some(EntityType::Operations) && self.subscribe_create)
                    || self.event_names.iter().any(|n| n == kind)
            }
        }
    }

    pub fn deactivate(&mut self, reason: &str, now: DateTime<Utc>) {
        self.active = false;
        self.deactivated_reason = Some(reason.to_owned());
        self.deactivated_at = Some(now);
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(entity: Option<EntityType>, names: &[&str]) -> Subscription {
        let now = Utc::now();
        Subscription {
            store_id: StoreId::from_bytes([1; 12]),
            subscription_id: SubscriptionId::from_bytes([2; 12]),
            active: true,
            entity_type: entity,
            subscribe_create: true,
            subscribe_change: false,
            subscribe_delete: false,
            event_names: names.iter().map(|n| n.to_string()).collect(),
            description: None,
            destination: Destination::Webhook {
                url: "https://example.com/hook".into(),
                sealed_secret: "x".into(),
                previous_sealed_secret: None,
                previous_secret_expires_at: None,
            },
            created_at: now - chrono::Duration::hours(1),
            updated_at: now,
            deactivated_reason: None,
            deactivated_at: None,
        }
    }

    #[test]
    fn when_entity_and_operation_are_subscribed_should_match_only_those() {
        let s = subscription(Some(EntityType::Customer), &[]);
        let now = Utc::now();
        let customer = Subject::Entity(EntityType::Customer);
        assert!(s.matches(&customer, Operation::Create, now));
        assert!(!s.matches(&customer, Operation::Change, now));
        assert!(!s.matches(&Subject::Entity(EntityType::Order), Operation::Create, now));
        assert!(!s.matches(&Subject::CustomEvent("Order Placed".into()), Operation::Create, now));
    }

    #[test]
    fn when_event_names_are_listed_should_match_those_names_or_any_with_star() {
        let now = Utc::now();
        let placed = Subject::CustomEvent("Order Placed".into());
        assert!(subscription(None, &["Order Placed"]).matches(&placed, Operation::Create, now));
        assert!(!subscription(None, &["Page Viewed"]).matches(&placed, Operation::Create, now));
        assert!(subscription(None, &["*"]).matches(&placed, Operation::Create, now));
    }

    #[test]
    fn when_inactive_or_newer_than_the_event_should_not_match() {
        let now = Utc::now();
        let placed = Subject::CustomEvent("Order Placed".into());
        let mut s = subscription(None, &["*"]);
        assert!(!s.matches(&placed, Operation::Create, s.created_at - chrono::Duration::seconds(1)));
        s.deactivate("test", now);
        assert!(!s.matches(&placed, Operation::Create, now));
    }
}
