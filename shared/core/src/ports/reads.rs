//! Reading back what a store sent: its events in keyed timelines, their deliveries, its customers, and the
//! sealing of listing cursors.

use std::future::Future;

use crate::domain::customer::Customer;
use crate::domain::delivery::DeliveryRecord;
use crate::domain::event::StoredEvent;
use crate::domain::event_listing::{EventQuery, Position};
use crate::domain::identity::Identifier;
use crate::domain::ids::{CustomerId, EventId, StoreId};

use super::StoreError;

/// A page of a timeline, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePage {
    pub events: Vec<StoredEvent>,
    /// Where the next page starts (strictly older events), or `None` when the timeline holds no more. A
    /// page may end early (a filter that matched little in the events it read) and still have a next one;
    /// the next page may also turn out empty.
    pub next: Option<Position>,
}

/// A store's events in the order they were received, by key.
pub trait EventTimelines {
    /// At most `limit` events of `store` on `query`'s timeline received in `[since, until)`, strictly older
    /// than `before` when given, newest first (by `receivedAt`, then event id). Reads are keyed and bounded:
    /// never a scan, never another store's events, at most a few index pages per call. Events stored
    /// moments ago may be missing (the indexes are eventually consistent); an event erased or expired is.
    fn timeline_page(
        &self,
        store: &StoreId,
        query: &EventQuery,
        before: Option<&Position>,
        limit: usize,
    ) -> impl Future<Output = Result<TimelinePage, StoreError>> + Send;

    /// Every ledger record of the event (each subscription, each message), in no particular order.
    fn event_deliveries(
        &self,
        store: &StoreId,
        event: &EventId,
    ) -> impl Future<Output = Result<Vec<DeliveryRecord>, StoreError>> + Send;
}

/// A store's customer profiles.
pub trait CustomerProfiles {
    /// The profile, or `None` (never another store's).
    fn profile(
        &self,
        store: &StoreId,
        id: &CustomerId,
    ) -> impl Future<Output = Result<Option<Customer>, StoreError>> + Send;

    /// The customer an identifier (in its matching form: lower-case email, E.164 phone) belongs to.
    fn owner_of(
        &self,
        store: &StoreId,
        kind: Identifier,
        value: &str,
    ) -> impl Future<Output = Result<Option<CustomerId>, StoreError>> + Send;
}

/// Seals listing cursors so that a client can neither read nor change them, bound to one store.
pub trait CursorSeal {
    /// `state` sealed for `store`: an opaque, URL-safe string.
    fn seal(&self, store: &StoreId, state: &str) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// What [`CursorSeal::seal`] sealed for this same store, or `None` for anything else (changed, made up,
    /// sealed for another store). An error only when the sealing service could not answer.
    fn open(&self, store: &StoreId, sealed: &str) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
}
