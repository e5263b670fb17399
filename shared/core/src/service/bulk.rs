//! Bulk ingest: up to 100 events, each one an independent unit through the same rules as a single event.
//! The reads are batched, the conditional writes run with bounded concurrency, the enqueue is batched.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::ingest::{store_event, IngestConfig, IngestError, IngestPorts, IngestStatus, Preloaded, Stored};
use crate::domain::custom_event::CustomEvent;
use crate::domain::identity::{only_identifies, MatchedBy};
use crate::domain::ids::{CustomerId, StoreId};
use crate::domain::validation::{FieldError, Pointer};
use crate::ports::{DispatchQueue, IngestStore, Prefetched};

/// Commits in flight at once: enough to hide round-trip latency, few enough not to throttle a store.
const CONCURRENT_COMMITS: usize = 16;

/// What happened to one event of a bulk request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum BulkStatus {
    /// Stored now and queued for dispatch.
    Accepted,
    /// Stored before (or earlier in this request) under the same `uniqueId` with the same content.
    Duplicate,
    /// The `uniqueId` was used for different content; nothing stored.
    Conflict,
    /// Invalid; nothing stored. `errors` says why.
    Rejected,
    /// Valid, but could not be stored this time (storage busy); nothing stored. Send this event again.
    Failed,
}

/// One entry of the bulk response, in input order.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkItemResult {
    /// Position of the event in the request's `events` array.
    pub index: usize,
    pub status: BulkStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<String>,
    /// For accepted events: whether identity resolution created the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_created: Option<bool>,
    /// For accepted events: the identifier that found the customer (`created` when none did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<MatchedBy>,
    /// Why the event was rejected, in conflict or failed; pointers are relative to the request body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl BulkItemResult {
    fn new(index: usize, status: BulkStatus) -> Self {
        Self {
            index,
            status,
            event_id: None,
            customer_id: None,
            customer_created: None,
            matched_by: None,
            errors: Vec::new(),
        }
    }

    fn failed(index: usize, pointer: &Pointer, detail: String) -> Self {
        Self {
            errors: vec![FieldError {
                pointer: pointer.as_str().to_owned(),
                detail,
            }],
            ..Self::new(index, BulkStatus::Failed)
        }
    }
}

/// Where event `index` sits in the request.
pub fn event_pointer(index: usize) -> Pointer {
    Pointer::at("/events").index(index)
}

/// Ingests the events of one bulk request; `events` holds each event's validation result. Never fails as a
/// whole: every event gets its own result. An `accepted` event is durable (see [`super::ingest`]).
pub async fn ingest_bulk<S, Q>(
    ports: &IngestPorts<'_, S, Q>,
    store: &StoreId,
    events: Vec<Result<CustomEvent, Vec<FieldError>>>,
    now: DateTime<Utc>,
    config: &IngestConfig,
) -> Vec<BulkItemResult>
where
    S: IngestStore + Sync,
    Q: DispatchQueue + Sync,
{
    let mut results: Vec<Option<BulkItemResult>> = vec![None; events.len()];
    let mut valid: Vec<(usize, CustomEvent)> = Vec::new();
    for (index, event) in events.into_iter().enumerate() {
        match event {
            Ok(event) => valid.push((index, event)),
            Err(errors) => {
                results[index] = Some(BulkItemResult {
                    errors,
                    ..BulkItemResult::new(index, BulkStatus::Rejected)
                })
            }
        }
    }

    // A uniqueId seen earlier in the request makes a follower: it is answered from its leader's result.
    let mut leader_of_unique: HashMap<&str, usize> = HashMap::new();
    let mut leaders: Vec<usize> = Vec::new();
    let mut followers: Vec<(usize, usize)> = Vec::new();
    for (position, (_, event)) in valid.iter().enumerate() {
        match event
            .unique_id
            .as_deref()
            .map(|u| *leader_of_unique.entry(u).or_insert(position))
        {
            Some(leader) if leader != position => followers.push((position, leader)),
            _ => leaders.push(position),
        }
    }

    let mut preloaded = preload(ports.store, store, &valid, &leaders).await;
    // Events that share an identifier run one after the other, so a customer new to this request is created
    // once and the later events find it; unrelated events run concurrently.
    let chains = chains_by_identity(&valid, &leaders);
    let stored: Vec<(usize, Result<Stored, IngestError>)> = stream::iter(chains)
        .map(|chain| {
            let mut first = chain.first().and_then(|p| preloaded.remove(p));
            let valid = &valid;
            async move {
                let mut out = Vec::with_capacity(chain.len());
                for position in chain {
                    let result = Box::pin(store_event(
                        ports.store,
                        ports.ids,
                        store,
                        (&valid[position].1).into(),
                        now,
                        config,
                        first.take(),
                    ))
                    .await;
                    out.push((position, result));
                }
                out
            }
        })
        .buffer_unordered(CONCURRENT_COMMITS)
        .flat_map(stream::iter)
        .collect()
        .await;

    let to_enqueue: Vec<_> = stored
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok()?.to_enqueue.clone())
        .collect();
    if !to_enqueue.is_empty() {
        if let Err(error) = ports.queue.enqueue_many(&to_enqueue, ports.trace.as_ref()).await {
            tracing::warn!(%error, "bulk enqueue incomplete; the events stay pending for the sweep");
        }
    }

    let mut by_position: HashMap<usize, BulkItemResult> = HashMap::new();
    for (position, result) in stored {
        let index = valid[position].0;
        by_position.insert(position, item_result(index, result));
    }
    for (position, leader) in followers {
        let (index, event) = &valid[position];
        let leader_result = &by_position[&leader];
        let result = follower_result(*index, event, &valid[leader].1, leader_result);
        by_position.insert(position, result);
    }
    for (position, result) in by_position {
        results[valid[position].0] = Some(result);
    }
    results.into_iter().flatten().collect()
}

/// One batched read for all leaders (dedupe records, customers by id, identifier owners), then one for the
/// profiles the claims point at. A failed read only means the events read for themselves.
async fn preload<S: IngestStore>(
    ports: &S,
    store: &StoreId,
    valid: &[(usize, CustomEvent)],
    leaders: &[usize],
) -> HashMap<usize, Preloaded> {
    let requests: Vec<_> = leaders
        .iter()
        .map(|&p| (valid[p].1.unique_id.as_deref(), valid[p].1.customer_input()))
        .collect();
    let prefetched = match ports.prefetch_many(store, &requests).await {
        Ok(prefetched) => prefetched,
        Err(error) => {
            tracing::warn!(%error, "bulk prefetch failed; events read one by one");
            return HashMap::new();
        }
    };
    let claimed: Vec<Option<CustomerId>> = leaders
        .iter()
        .zip(&prefetched)
        .map(|(&p, pre)| claimed_owner(&valid[p].1, pre))
        .collect();
    let ids: Vec<CustomerId> = claimed.iter().flatten().cloned().collect();
    let profiles = if ids.is_empty() {
        HashMap::new()
    } else {
        ports.customers(store, &ids).await.unwrap_or_default()
    };
    leaders
        .iter()
        .zip(prefetched)
        .zip(claimed)
        .map(|((&p, prefetched), owner)| {
            let claimed_profile = owner.and_then(|id| profiles.get(&id).cloned());
            (
                p,
                Preloaded {
                    prefetched,
                    claimed_profile,
                },
            )
        })
        .collect()
}

/// The customer whose profile identity resolution will read by claim: the email's owner, else the phone's,
/// unless the customer id itself was found or the event only identifies the customer.
fn claimed_owner(event: &CustomEvent, prefetched: &Prefetched) -> Option<CustomerId> {
    let lookup = &prefetched.identity;
    if lookup.by_id.is_some() {
        return None;
    }
    let customer = event.customer_input();
    let email = customer.email.as_ref().and(lookup.email_owner.clone());
    let owner = email.or_else(|| customer.phone_number.as_ref().and(lookup.phone_owner.clone()))?;
    (!only_identifies(customer, lookup, &owner)).then_some(owner)
}

/// Groups leaders that share any identifier (id, email case-insensitively, phone), keeping input order.
fn chains_by_identity(valid: &[(usize, CustomEvent)], leaders: &[usize]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..leaders.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_with: HashMap<String, usize> = HashMap::new();
    for (slot, &p) in leaders.iter().enumerate() {
        let customer = valid[p].1.customer_input();
        let identifiers = [
            customer.id.as_ref().map(|id| format!("id:{id}")),
            customer.email_key().map(|e| format!("email:{e}")),
            customer.phone_number.as_ref().map(|ph| format!("phone:{ph}")),
        ];
        for identifier in identifiers.into_iter().flatten() {
            let other = *first_with.entry(identifier).or_insert(slot);
            let (a, b) = (root(&mut parent, slot), root(&mut parent, other));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut chains: Vec<Vec<usize>> = Vec::new();
    let mut chain_of_root: HashMap<usize, usize> = HashMap::new();
    for (slot, &p) in leaders.iter().enumerate() {
        let r = root(&mut parent, slot);
        let chain = *chain_of_root.entry(r).or_insert_with(|| {
            chains.push(Vec::new());
            chains.len() - 1
        });
        chains[chain].push(p);
    }
    chains
}

fn item_result(index: usize, result: Result<Stored, IngestError>) -> BulkItemResult {
    let at = event_pointer(index);
    match result {
        Ok(Stored { ingested, .. }) => BulkItemResult {
            event_id: Some(ingested.event_id.to_string()),
            customer_id: ingested.customer_id.as_ref().map(ToString::to_string),
            customer_created: (ingested.status == IngestStatus::Accepted).then_some(ingested.customer_created),
            matched_by: ingested.matched_by,
            ..BulkItemResult::new(
                index,
                match ingested.status {
                    IngestStatus::Accepted => BulkStatus::Accepted,
                    IngestStatus::Duplicate => BulkStatus::Duplicate,
                },
            )
        },
        Err(IngestError::UniqueIdConflict { unique_id, event_id }) => BulkItemResult {
            event_id: Some(event_id.to_string()),
            errors: vec![FieldError {
                pointer: at.key("uniqueId").as_str().to_owned(),
                detail: format!("uniqueId '{unique_id}' was used within the dedupe window for event {event_id}, whose content differs"),
            }],
            ..BulkItemResult::new(index, BulkStatus::Conflict)
        },
        Err(error) => {
            tracing::warn!(index, %error, "bulk event not stored");
            BulkItemResult::failed(index, &at, "the event could not be stored this time; send it again".to_owned())
        }
    }
}

fn follower_result(
    index: usize,
    event: &CustomEvent,
    leader: &CustomEvent,
    leader_result: &BulkItemResult,
) -> BulkItemResult {
    let at = event_pointer(index);
    if event.payload_hash() != leader.payload_hash() {
        return BulkItemResult {
            event_id: leader_result.event_id.clone(),
            errors: vec![FieldError {
                pointer: at.key("uniqueId").as_str().to_owned(),
                detail: format!(
                    "uniqueId repeats event {} of this request with different content",
                    leader_result.index
                ),
            }],
            ..BulkItemResult::new(index, BulkStatus::Conflict)
        };
    }
    let status = match leader_result.status {
        BulkStatus::Accepted | BulkStatus::Duplicate => BulkStatus::Duplicate,
        other => other,
    };
    BulkItemResult {
        index,
        status,
        customer_created: None,
        matched_by: None,
        errors: leader_result
            .errors
            .iter()
            .map(|e| FieldError {
                pointer: e
                    .pointer
                    .replacen(event_pointer(leader_result.index).as_str(), at.as_str(), 1),
                detail: e.detail.clone(),
            })
            .collect(),
        ..leader_result.clone()
    }
}

/// Counts for the response summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BulkSummary {
    pub accepted: usize,
    pub duplicates: usize,
    pub conflicts: usize,
    pub rejected: usize,
    pub failed: usize,
}

impl BulkSummary {
    pub fn of(results: &[BulkItemResult]) -> Self {
        let mut summary = Self::default();
        for result in results {
            *match result.status {
                BulkStatus::Accepted => &mut summary.accepted,
                BulkStatus::Duplicate => &mut summary.duplicates,
                BulkStatus::Conflict => &mut summary.conflicts,
                BulkStatus::Rejected => &mut summary.rejected,
                BulkStatus::Failed => &mut summary.failed,
            } += 1;
        }
        summary
    }
}
