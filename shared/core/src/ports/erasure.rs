//! Erasing a customer.

use std::future::Future;

use crate::domain::erasure::Erasure;
use crate::domain::identity::Identifier;
use crate::domain::ids::{CustomerId, StoreId};

use super::StoreError;

/// Erasing a customer. Every record written for a customer can be found from the customer alone.
pub trait CustomerErasure {
    /// The customer an identifier (in its matching form) belongs to, or `None`.
    fn identifier_owner(
        &self,
        store: &StoreId,
        kind: Identifier,
        value: &str,
    ) -> impl Future<Output = Result<Option<CustomerId>, StoreError>> + Send;

    /// Deletes the customer's records, stopping once about `budget` are gone (`complete: false`): each event's
    /// delivery records before the event, every other record of the customer, then its frequency caps, and
    /// the profile last, once nothing else is left. A call cut short anywhere therefore leaves the profile,
    /// and calling again continues. Records committed while it runs may survive it (the index it reads is
    /// eventually consistent); calling again removes them.
    fn erase_customer(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        budget: usize,
    ) -> impl Future<Output = Result<Erasure, StoreError>> + Send;
}
