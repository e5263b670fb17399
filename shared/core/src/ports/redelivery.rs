//! Replays: their records, and the queue that carries their pages and aimed dispatch messages.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::event_listing::Position;
use crate::domain::ids::{StoreId, SubscriptionId};
use crate::domain::redelivery::{DispatchMessage, Replay};

use super::StoreError;

/// Where replays are kept.
pub trait ReplayStore {
    /// Stores a new replay (its id is fresh).
    fn create_replay(&self, replay: &Replay) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A replay of the subscription, or `None` (never another store's or subscription's).
    fn replay(
        &self,
        store: &StoreId,
        subscription: &SubscriptionId,
        replay_id: &str,
    ) -> impl Future<Output = Result<Option<Replay>, StoreError>> + Send;

    /// Records a page handed to dispatch: `matched` more events, where the next page starts (`None`: the
    /// range is done, and `finished_at` says when). Only moves forward: a page handled twice (a redelivered
    /// page message) whose position was already passed changes nothing, and answers `false`.
    fn advance_replay(
        &self,
        replay: &Replay,
        matched: u64,
        next: Option<&Position>,
        finished_at: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The dispatch queue, for messages other than a stored event's own.
pub trait DispatchMessages {
    /// Sends the messages, after `delay` (at most 15 minutes), in as few calls as the queue allows. An error
    /// means some were not sent.
    fn send(
        &self,
        messages: &[DispatchMessage],
        delay: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
