//! DynamoDB: reading back a store's events through the timeline indexes (`storeEvents`, `namedEvents`,
//! `customerEvents`, keys only, sorted by `timelineKey`), an event's ledger from its partition, and
//! customer profiles.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

use super::dynamo::{event_from_item, from_item, key, s, DynamoTable, Item};
use super::errors::sdk_error;
use super::keys;
use super::shard_merge::{newest_across, ShardPage};
use collector_core::domain::customer::Customer;
use collector_core::domain::delivery::DeliveryRecord;
use collector_core::domain::event::StoredEvent;
use collector_core::domain::event_listing::{EventQuery, Position, Timeline};
use collector_core::domain::identity::Identifier;
use collector_core::domain::ids::{CustomerId, EventId, StoreId};
use collector_core::ports::{CustomerErasure, CustomerProfiles, EventTimelines, IngestStore, StoreError, TimelinePage};

/// How many index pages a filtered read of a customer's timeline examines before it answers with what it
/// found and a cursor: a rare event name among many events costs bounded reads per request.
const FILTERED_PAGES: usize = 4;

/// The key range of a timeline read, `None` when it is empty.
fn range(query: &EventQuery, before: Option<&Position>) -> Option<(String, String)> {
    let low = query
        .since
        .map_or_else(|| "0".to_owned(), |at| keys::timeline_bound(at.timestamp_millis()));
    // `~` sorts after every digit: no upper bound.
    let until = query
        .until
        .map_or_else(|| "~".to_owned(), |at| keys::timeline_bound(at.timestamp_millis()));
    let high = match before {
        Some(before) => keys::timeline_key(before).min(until),
        None => until,
    };
    (low <= high).then_some((low, high))
}

/// The positions of index items, newest first, without `before` itself (the range includes its bounds).
fn positions(items: Vec<Item>, before: Option<&Position>) -> Vec<Position> {
    items
        .iter()
        .filter_map(|item| item.get(keys::TIMELINE_KEY)?.as_s().ok())
        .filter_map(|k| keys::parse_timeline_key(k))
        .filter(|p| Some(p) != before)
        .collect()
}

impl DynamoTable {
    /// One page of one partition of a timeline index, newest first.
    async fn timeline_query(
        &self,
        (index, partition_attribute, partition): (&str, &str, String),
        (low, high): &(String, String),
        filter: Option<&str>,
        (limit, start): (usize, Option<Item>),
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let shape = |q: QueryFluentBuilder| match filter {
            Some(name) => q
                .filter_expression("eventName = :name")
                .expression_attribute_values(":name", s(name)),
            None => q,
        };
        let page = shape(self.client.query())
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#of = :of AND #t BETWEEN :low AND :high")
            .expression_attribute_names("#of", partition_attribute)
            .expression_attribute_names("#t", keys::TIMELINE_KEY)
            .expression_attribute_values(":of", s(partition))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("list events", e))?;
        Ok((page.items.unwrap_or_default(), page.last_evaluated_key))
    }

    /// The newest `limit` positions of a sharded timeline (the store's, or a name's), and whether more remain.
    async fn sharded_positions(
        &self,
        (index, attribute, partition): (&str, &str, impl Fn(u64) -> String),
        bounds: &(String, String),
        before: Option<&Position>,
        limit: usize,
    ) -> Result<(Vec<Position>, bool), StoreError> {
        let read = |shard, limit, start| {
            let at = (index, attribute, partition(shard));
            async move {
                let (items, next) = self.timeline_query(at, bounds, None, (limit, start)).await?;
                Ok(ShardPage {
                    items: positions(items, before),
                    next,
                })
            }
        };
        let order = |p: &Position| p.clone();
        let shards = u64::from(keys::TIMELINE_SHARDS);
        newest_across(shards, limit, (order, order), read).await
    }

    /// The newest `limit` positions of a customer's timeline (matching `name` when given), examining at most
    /// [`FILTERED_PAGES`] pages, and where the next read starts.
    async fn customer_positions(
        &self,
        partition: String,
        (bounds, name): (&(String, String), Option<&str>),
        before: Option<&Position>,
        limit: usize,
    ) -> Result<(Vec<Position>, Option<Position>), StoreError> {
        let at = || (keys::CUSTOMER_EVENTS_INDEX, keys::OWNED_BY, partition.clone());
        let (mut found, mut start) = (Vec::new(), None);
        for _ in 0..FILTERED_PAGES {
            let (items, next) = self.timeline_query(at(), bounds, name, (limit + 1, start)).await?;
            found.extend(positions(items, before));
            start = next;
            if found.len() > limit || start.is_none() {
                break;
            }
        }
        if found.len() > limit {
            found.truncate(limit);
            let last = found.last().cloned();
            return Ok((found, last));
        }
        // Stopped by the budget: go on after the last item examined, matched or not.
        let examined = start
            .as_ref()
            .and_then(|key| key.get(keys::TIMELINE_KEY)?.as_s().ok().cloned())
            .and_then(|k| keys::parse_timeline_key(&k));
        Ok((found, examined))
    }

    /// The events at `positions`, in that order (any erased meanwhile left out).
    async fn events_at(&self, store: &StoreId, positions: &[Position]) -> Result<Vec<StoredEvent>, StoreError> {
        let wanted = positions.iter().map(|p| key(keys::event(store, &p.event_id))).collect();
        let mut events: Vec<StoredEvent> = self
            .batch_get("list events", wanted)
            .await?
            .into_iter()
            .map(event_from_item)
            .collect::<Result<_, _>>()?;
        events.sort_by_key(|e| std::cmp::Reverse(Position::of(e.received_at, &e.event_id)));
        Ok(events)
    }
}

impl EventTimelines for DynamoTable {
    async fn timeline_page(
        &self,
        store: &StoreId,
        query: &EventQuery,
        before: Option<&Position>,
        limit: usize,
    ) -> Result<TimelinePage, StoreError> {
        let Some(bounds) = range(query, before) else {
            return Ok(TimelinePage {
                events: Vec::new(),
                next: None,
            });
        };
        let (positions, next) = match &query.timeline {
            Timeline::Store | Timeline::Named { .. } => {
                let (index, attribute) = match &query.timeline {
                    Timeline::Named { .. } => (keys::NAMED_EVENTS_INDEX, keys::NAMED_OF),
                    _ => (keys::STORE_EVENTS_INDEX, keys::EVENTS_OF),
                };
                let partition = |shard| match &query.timeline {
                    Timeline::Named { event_name } => keys::named_events_shard(store, event_name, shard),
                    _ => keys::store_events_shard(store, shard),
                };
                let at = (index, attribute, partition);
                let (positions, more) = self.sharded_positions(at, &bounds, before, limit).await?;
                let next = positions.last().cloned().filter(|_| more);
                (positions, next)
            }
            Timeline::Customer {
                customer_id,
                event_name,
            } => {
                let partition = keys::owner(store, customer_id);
                let filter = (&bounds, event_name.as_deref());
                self.customer_positions(partition, filter, before, limit).await?
            }
        };
        let events = match positions.is_empty() {
            true => Vec::new(),
            false => self.events_at(store, &positions).await?,
        };
        Ok(TimelinePage { events, next })
    }

    async fn event_deliveries(&self, store: &StoreId, event: &EventId) -> Result<Vec<DeliveryRecord>, StoreError> {
        let partition = keys::event_partition(store, event);
        self.query_all("get event deliveries", |q| {
            q.key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(partition.clone()))
                .expression_attribute_values(":prefix", s(keys::DELIVERY_SK_PREFIX))
        })
        .await?
        .into_iter()
        .map(|item| from_item("delivery item", item))
        .collect()
    }
}

impl CustomerProfiles for DynamoTable {
    async fn profile(&self, store: &StoreId, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        IngestStore::customer(self, store, id).await
    }

    async fn owner_of(&self, store: &StoreId, kind: Identifier, value: &str) -> Result<Option<CustomerId>, StoreError> {
        CustomerErasure::identifier_owner(self, store, kind, value).await
    }
}
