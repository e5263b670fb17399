//! Subscriptions as their API manages them, and the sealing of the secrets they hold.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::delivery::DeliveryRecord;
use crate::domain::delivery_listing::{DeliveryPage, DeliveryQuery};
use crate::domain::ids::{StoreId, SubscriptionId};
use crate::domain::subscription::Subscription;

use super::StoreError;

/// Subscriptions of a store, and the ledger records users read through them.
pub trait SubscriptionStore {
    /// Stores a new subscription; fails if its id exists.
    fn create_subscription(&self, subscription: &Subscription) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces a stored subscription. `Ok(false)`, writing nothing, when it does not exist.
    fn replace_subscription(
        &self,
        subscription: &Subscription,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// One subscription of the store (strongly consistent), or `None`; never another store's.
    fn subscription(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
    ) -> impl Future<Output = Result<Option<Subscription>, StoreError>> + Send;

    /// Every subscription of the store, active or not, by id (so, by creation time).
    fn subscriptions(&self, store: &StoreId) -> impl Future<Output = Result<Vec<Subscription>, StoreError>> + Send;

    /// Deletes a subscription. `Ok(false)` when it did not exist.
    fn delete_subscription(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Marks a subscription inactive with a reason, in place (concurrent edits of other fields survive).
    /// Returns it as now stored, or `None` when it does not exist.
    fn deactivate_subscription(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Subscription>, StoreError>> + Send;

    /// The ledger record of one outbound message to the subscription, or `None` (never another store's).
    fn delivery(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        message_id: &str,
    ) -> impl Future<Output = Result<Option<DeliveryRecord>, StoreError>> + Send;

    /// At most `limit` ledger records of a subscription, of `query.status` when given, after `query.after`
    /// when given, latest attempt first (then by message id). Reads are keyed and bounded: never a scan,
    /// never another subscription's records; a page of a status the ledger holds little of may end early
    /// with a next position. Records written moments ago may be missing (the indexes are eventually
    /// consistent).
    fn deliveries(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        query: &DeliveryQuery,
        limit: usize,
    ) -> impl Future<Output = Result<DeliveryPage, StoreError>> + Send;
}

/// What a sealed secret is bound to: opening it needs the same store and subscription.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretContext {
    pub store_id: StoreId,
    pub subscription_id: SubscriptionId,
}

/// Encryption of stored secrets (destination credentials, webhook signing secrets).
pub trait SecretBox {
    /// Encrypts `plaintext` bound to `context`; the result is safe to store.
    fn seal(&self, plaintext: &str, context: &SecretContext)
        -> impl Future<Output = Result<String, StoreError>> + Send;

    /// Decrypts what [`SecretBox::seal`] made with the same context.
    fn open(&self, sealed: &str, context: &SecretContext) -> impl Future<Output = Result<String, StoreError>> + Send;
}
