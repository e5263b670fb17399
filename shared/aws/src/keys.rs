//! The single table's keys. Every key of tenant data starts with `STORE#<storeId>#`: tenants are walls.
//! `docs/data-model.md` lists every access pattern; keep the two in step.

use collector_core::domain::erasure::CustomerRecord;
use collector_core::domain::event::EventRef;
use collector_core::domain::event_listing::Position;
use collector_core::domain::identity::Identifier;
use collector_core::domain::ids::{CustomerId, EventId, StoreId, SubscriptionId};
use collector_core::domain::subscription::EntityType;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// Attributes of the sparse `pending` index: events stored but not yet dispatched.
pub const PENDING_SHARD: &str = "pendingShard";
pub const PENDING_SINCE: &str = "pendingSince";
/// The index over [`PENDING_SHARD`] and [`PENDING_SINCE`].
pub const PENDING_INDEX: &str = "pending";
/// How many partitions of the `pending` index events spread over unless the deployment says
/// (`PENDING_SHARDS`, the template's `PendingShards`): every event writes its shard twice (stored, then
/// dispatched), so a million events a second need about 2,500 to stay under 80% of a partition each.
pub const DEFAULT_PENDING_SHARDS: u16 = 4096;

pub fn api_key(key_hash: &str) -> (String, &'static str) {
    (format!("APIKEY#{key_hash}"), "APIKEY")
}

pub fn store(store: &StoreId) -> (String, &'static str) {
    (format!("STORE#{store}"), "STORE")
}

/// The attribute of the store's item that holds its email identity (its SendGrid key sealed).
pub const EMAIL_IDENTITY: &str = "emailIdentity";

/// A key's entry in its store's list of keys, by key id: how a key is listed and revoked without its hash.
pub fn store_key(store: &StoreId, key_id: &str) -> (String, String) {
    (format!("STORE#{store}"), format!("KEY#{key_id}"))
}

/// The sort-key prefix of a store's key entries.
pub const STORE_KEY_PREFIX: &str = "KEY#";

/// The store's request count in one second (epoch `window`); a partition per second, so no key is hot for
/// long, and each expires a minute later.
pub fn rate_window(store: &StoreId, window: i64) -> (String, &'static str) {
    (format!("STORE#{store}#RATE#{window}"), "RATE")
}

pub fn customer(store: &StoreId, id: &CustomerId) -> (String, &'static str) {
    (format!("STORE#{store}#CUSTOMER#{id}"), "PROFILE")
}

/// `value` is the matching form: lower-case email, E.164 phone.
pub fn identity(store: &StoreId, kind: Identifier, value: &str) -> (String, &'static str) {
    let label = match kind {
        Identifier::Email => "EMAIL",
        Identifier::PhoneNumber => "PHONE",
    };
    (format!("STORE#{store}#{label}#{value}"), "IDENTITY")
}

pub fn dedupe(store: &StoreId, unique_id: &str) -> (String, &'static str) {
    (format!("STORE#{store}#UNIQUE#{unique_id}"), "DEDUPE")
}

pub fn event(store: &StoreId, id: &EventId) -> (String, &'static str) {
    (event_partition(store, id), EVENT_SK)
}

/// An order of the store by the merchant's order id.
pub fn order(store: &StoreId, external_order_id: &str) -> (String, &'static str) {
    (format!("STORE#{store}#ORDER#{external_order_id}"), "ORDER")
}

/// A product's viewers spread over this many partitions, by customer: a product viewed 2,500 times a second
/// writes each about 160 times a second (in the event's transaction, twice that in write units).
pub const VIEW_SHARDS: u16 = 16;

/// A customer's view of a product, in the shard of the customer among the product's [`VIEW_SHARDS`].
pub fn product_view(store: &StoreId, product_id: &str, customer: &CustomerId) -> (String, String) {
    let shard = customer_shard(customer, VIEW_SHARDS);
    (product_views(store, product_id, shard), format!("CUSTOMER#{customer}"))
}

/// One shard of a product's viewers. The product id, a merchant's string, comes last.
pub fn product_views(store: &StoreId, product_id: &str, shard: u64) -> String {
    format!("STORE#{store}#PRODUCTVIEW#{shard}#{product_id}")
}

/// A customer's shard among `shards`: the same for every record of theirs.
fn customer_shard(customer: &CustomerId, shards: u16) -> u64 {
    stable_hash(customer.as_str()) % u64::from(shards)
}

/// A customer's cart.
pub fn cart(store: &StoreId, customer: &CustomerId) -> (String, &'static str) {
    (format!("STORE#{store}#CART#{customer}"), "CART")
}

/// The sparse `openCarts` index: carts not followed by an order, by the time of their last change.
pub const OPEN_CARTS_INDEX: &str = "openCarts";
pub const OPEN_CARTS_OF: &str = "openCartsOf";
pub const CART_UPDATED_MS: &str = "cartUpdatedMs";

/// A store's open carts spread over this many `openCarts` partitions, by customer: each cart change rewrites
/// its entry.
pub const OPEN_CART_SHARDS: u16 = 16;

/// The `openCarts` partition of `customer`'s cart.
pub fn open_carts_of(store: &StoreId, customer: &CustomerId) -> String {
    open_carts(store, customer_shard(customer, OPEN_CART_SHARDS))
}

/// One shard of a store's open carts.
pub fn open_carts(store: &StoreId, shard: u64) -> String {
    format!("STORE#{store}#OPENCARTS#{shard}")
}

/// The latest state of an entity, in a partition of its own: a catalogue's inventory and price events touch
/// millions of entities, never one partition for all.
pub fn entity_state(store: &StoreId, entity_type: EntityType, entity_id: &str) -> (String, &'static str) {
    (
        format!("STORE#{store}#ENTITY#{}#{entity_id}", entity_type.name()),
        "STATE",
    )
}

/// The `entities` index: every entity state by type, over [`ENTITY_SHARDS`] partitions, by last change.
pub const ENTITIES_INDEX: &str = "entities";
pub const ENTITIES_OF: &str = "entitiesOf";
pub const ENTITY_UPDATED_MS: &str = "entityUpdatedMs";
/// A type's entities spread over this many `entities` partitions, by entity id: 1,000 changes a second of
/// one type put about 60 writes a second on each.
pub const ENTITY_SHARDS: u16 = 16;

/// The `entities` partition of an entity.
pub fn entities_of(store: &StoreId, entity_type: EntityType, entity_id: &str) -> String {
    entities_shard(store, entity_type, stable_hash(entity_id) % u64::from(ENTITY_SHARDS))
}

/// One shard of a type's entities in the `entities` index.
pub fn entities_shard(store: &StoreId, entity_type: EntityType, shard: u64) -> String {
    format!("STORE#{store}#ENTITIES#{}#{shard}", entity_type.name())
}

/// Every job of a store shares a partition.
pub fn job(store: &StoreId, id: &str) -> (String, String) {
    (jobs(store), format!("JOB#{id}"))
}

pub fn jobs(store: &StoreId) -> String {
    format!("STORE#{store}#JOBS")
}

/// A job's runs, by slot.
pub fn job_runs(store: &StoreId, id: &str) -> String {
    format!("STORE#{store}#JOB#{id}#RUNS")
}

/// The sparse `dueJobs` index: jobs that run, by next run time, over a few shards.
pub const DUE_JOBS_INDEX: &str = "dueJobs";
pub const DUE_SHARD: &str = "dueShard";
pub const NEXT_RUN_MS: &str = "nextRunMs";
pub const DUE_SHARDS: u8 = 4;

pub fn due_shard(job_id: &str) -> String {
    let sum: u32 = job_id.bytes().map(u32::from).sum();
    format!("DUE#{}", sum % u32::from(DUE_SHARDS))
}

/// A notification a customer got about a product: the frequency cap, until its `expiresAt`.
pub fn notified(store: &StoreId, customer: &CustomerId, notification: &str, product: &str) -> (String, String) {
    (notified_partition(store, customer), format!("{notification}#{product}"))
}

/// Every frequency cap of a customer.
pub fn notified_partition(store: &StoreId, customer: &CustomerId) -> String {
    format!("STORE#{store}#NOTIFIED#{customer}")
}

/// The `customerItems` index: every record written for a customer (events, dedupe records, identifier claims,
/// orders, product views, cart, entity states attributed to them) carries [`OWNED_BY`] = [`owner`], so an
/// erasure finds them all without knowing their keys. Keys only.
pub const CUSTOMER_ITEMS_INDEX: &str = "customerItems";
pub const OWNED_BY: &str = "ownedBy";

/// The [`OWNED_BY`] value of a customer's records: its profile's partition key.
pub fn owner(store: &StoreId, id: &CustomerId) -> String {
    customer(store, id).0
}

/// Which kind of customer record a key names, `None` for a key of none.
pub fn record_kind(pk: &str, sk: &str) -> Option<CustomerRecord> {
    let kind = match sk {
        "PROFILE" => CustomerRecord::Profile,
        "IDENTITY" => CustomerRecord::Identifier,
        EVENT_SK => CustomerRecord::Event,
        "DEDUPE" => CustomerRecord::DedupeRecord,
        "ORDER" => CustomerRecord::Order,
        "CART" => CustomerRecord::Cart,
        _ if sk.starts_with(DELIVERY_SK_PREFIX) => CustomerRecord::DeliveryRecord,
        _ if pk.contains("#PRODUCTVIEW#") => CustomerRecord::ProductView,
        _ if pk.contains("#ENTITY#") => CustomerRecord::Entity,
        _ if pk.contains("#NOTIFIED#") => CustomerRecord::NotificationCap,
        _ => return None,
    };
    Some(kind)
}

/// The event's own item in its partition; the partition also holds its delivery ledger.
pub const EVENT_SK: &str = "EVENT";

pub fn event_partition(store: &StoreId, id: &EventId) -> String {
    format!("STORE#{store}#EVENT#{id}")
}

/// Every subscription of a store shares one partition, so dispatch reads them all in one query.
pub fn subscriptions(store: &StoreId) -> String {
    format!("STORE#{store}#SUBSCRIPTIONS")
}

pub fn subscription(store: &StoreId, id: &SubscriptionId) -> (String, String) {
    (subscriptions(store), format!("SUB#{id}"))
}

/// Ledger records live in their event's partition: one query reads an event with its whole ledger.
pub const DELIVERY_SK_PREFIX: &str = "DELIVERY#";

pub fn delivery(event: &EventRef, subscription: &SubscriptionId, message_id: &str) -> (String, String) {
    (
        event_partition(&event.store_id, &event.event_id),
        format!("{DELIVERY_SK_PREFIX}{subscription}#{message_id}"),
    )
}

/// The `deliveries` index: ledger records by subscription, latest attempt first.
pub const DELIVERIES_INDEX: &str = "deliveries";
pub const DELIVERIES_OF: &str = "deliveriesOf";
pub const DELIVERY_ATTEMPT_MS: &str = "lastAttemptMs";

/// A subscription's ledger records spread over this many `deliveries` partitions: each delivery writes its
/// record's entry once more per attempt, and one subscription receives every event of its store (64 keep a
/// store at 50,000 events/s under 80% of a partition each); the listing merges them.
pub const DELIVERY_SHARDS: u16 = 64;

/// The `deliveries` partition of the record of `message_id` to `subscription`.
pub fn deliveries_of(store: &StoreId, subscription: &SubscriptionId, message_id: &str) -> String {
    deliveries_shard(
        store,
        subscription,
        stable_hash(message_id) % u64::from(DELIVERY_SHARDS),
    )
}

/// One of a subscription's `deliveries` partitions.
pub fn deliveries_shard(store: &StoreId, subscription: &SubscriptionId, shard: u64) -> String {
    format!("STORE#{store}#SUB#{subscription}#{shard}")
}

/// The `undelivered` index: the ledger records not delivered, by subscription and status, latest attempt
/// first, so a listing of a rare status (`FAILED`, `EXHAUSTED`, `SKIPPED`, `REJECTED`) reads only those. The
/// attribute is removed when a record is delivered: a delivery on the first attempt never writes the index.
/// Sharded like `deliveries` (a subscription inactive under a store's full rate skips every event).
pub const UNDELIVERED_INDEX: &str = "undelivered";
pub const UNDELIVERED_OF: &str = "undeliveredOf";

/// The `undelivered` partition of the record of `message_id` to `subscription` while its status is `status`.
pub fn undelivered_of(store: &StoreId, subscription: &SubscriptionId, status: &str, message_id: &str) -> String {
    let shard = stable_hash(message_id) % u64::from(DELIVERY_SHARDS);
    undelivered_shard(store, subscription, status, shard)
}

/// One of the `undelivered` partitions of a subscription's records of one status.
pub fn undelivered_shard(store: &StoreId, subscription: &SubscriptionId, status: &str, shard: u64) -> String {
    format!("STORE#{store}#SUB#{subscription}#{status}#{shard}")
}

/// The event timelines (`GET /stores/{storeId}/events`): three sparse indexes over the event items, each
/// sorted by [`TIMELINE_KEY`] (`receivedAt` in milliseconds, then the event id), keys only.
/// `storeEvents`: every event of a store, over [`TIMELINE_SHARDS`] partitions of [`EVENTS_OF`].
pub const STORE_EVENTS_INDEX: &str = "storeEvents";
pub const EVENTS_OF: &str = "eventsOf";
/// `namedEvents`: the events of one name, over [`TIMELINE_SHARDS`] partitions of [`NAMED_OF`].
pub const NAMED_EVENTS_INDEX: &str = "namedEvents";
pub const NAMED_OF: &str = "namedOf";
/// `customerEvents`: one customer's events, by [`OWNED_BY`] (its events are few; `eventName` projected to
/// filter on).
pub const CUSTOMER_EVENTS_INDEX: &str = "customerEvents";
pub const TIMELINE_KEY: &str = "timelineKey";

/// A store's timeline, and each of its event names', spread over this many partitions: a store at 50,000
/// events/s writes each index 50,000 times a second (one unit each), 780 a second per partition; a
/// listing reads them all and merges, as the deliveries listing does.
pub const TIMELINE_SHARDS: u16 = 64;

fn timeline_shard(id: &EventId) -> u64 {
    stable_hash(id.as_str()) % u64::from(TIMELINE_SHARDS)
}

/// The `storeEvents` partition of an event.
pub fn events_of(store: &StoreId, id: &EventId) -> String {
    store_events_shard(store, timeline_shard(id))
}

pub fn store_events_shard(store: &StoreId, shard: u64) -> String {
    format!("STORE#{store}#EVENTS#{shard}")
}

/// The `namedEvents` partition of an event. The shard is the last segment, so no name can make another
/// name's key.
pub fn named_of(store: &StoreId, event_name: &str, id: &EventId) -> String {
    named_events_shard(store, event_name, timeline_shard(id))
}

pub fn named_events_shard(store: &StoreId, event_name: &str, shard: u64) -> String {
    format!("STORE#{store}#NAMED#{event_name}#{shard}")
}

/// The [`TIMELINE_KEY`] of a position: fixed-width milliseconds (string order is time order), then the id.
pub fn timeline_key(position: &Position) -> String {
    format!("{:013}#{}", position.received_ms.max(0), position.event_id)
}

/// The position a [`TIMELINE_KEY`] names.
pub fn parse_timeline_key(key: &str) -> Option<Position> {
    let (ms, id) = key.split_once('#')?;
    Some(Position {
        received_ms: ms.parse().ok()?,
        event_id: EventId::parse(id).ok()?,
    })
}

/// The bound of a timeline range at a time: every key of that millisecond sorts after it.
pub fn timeline_bound(at_ms: i64) -> String {
    format!("{:013}", at_ms.max(0))
}

/// A subscription's replays share a partition: one is read or advanced a few times a second at most.
pub fn replay(store: &StoreId, subscription: &SubscriptionId, replay_id: &str) -> (String, String) {
    (
        format!("STORE#{store}#SUB#{subscription}#REPLAYS"),
        format!("REPLAY#{replay_id}"),
    )
}

/// The store and event ids of an event's `pk`.
pub fn parse_event(pk: &str) -> Option<(StoreId, EventId)> {
    let rest = pk.strip_prefix("STORE#")?;
    let (store, event) = rest.split_once("#EVENT#")?;
    Some((StoreId::parse(store).ok()?, EventId::parse(event).ok()?))
}

/// The pending-index partition of an event among `shards`: a stable function of its id. FNV-1a spreads
/// ids evenly whatever they share (a byte sum put every id with the same letters in one shard).
pub fn pending_shard(id: &EventId, shards: u16) -> String {
    pending_partition(stable_hash(id.as_str()) % u64::from(shards.max(1)))
}

/// The pending-index partition of shard `shard`.
pub fn pending_partition(shard: u64) -> String {
    format!("PENDING#{shard}")
}

/// 64-bit FNV-1a: the same on every instance and in every build, unlike the standard library's hasher.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_spread_evenly_over_the_pending_shards_and_always_to_the_same_one() {
        let mut counts = vec![0usize; 16];
        for i in 0..16_000u32 {
            // Ids as the collector makes them: a shared time prefix, then random-looking hex.
            let id = EventId::parse(&format!(
                "6b0f6833{:016x}",
                u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ))
            .expect("an id");
            let shard = pending_shard(&id, 16);
            let n: usize = shard.strip_prefix("PENDING#").unwrap().parse().unwrap();
            counts[n] += 1;
        }
        assert!(counts.iter().all(|c| (800..=1200).contains(c)), "{counts:?}");
        let id = EventId::parse("6b0f6833daea6f962dfff81c").unwrap();
        assert_eq!(pending_shard(&id, 4096), pending_shard(&id, 4096));
        assert_eq!(pending_shard(&id, 1), "PENDING#0");
    }
}
