//! Reading back what a store sent: pages of its events, one event with its deliveries, a customer, pages
//! of a subscription's ledger.

use crate::domain::customer::Customer;
use crate::domain::delivery::DeliveryRecord;
use crate::domain::delivery_listing::{DeliveryCursor, DeliveryListRequest, DeliveryQuery};
use crate::domain::entity_event::client_id_of_segment;
use crate::domain::erasure::CustomerRef;
use crate::domain::event::StoredEvent;
use crate::domain::event_listing::{CursorState, EventQuery, ListRequest};
use crate::domain::ids::{CustomerId, EventId, StoreId, SubscriptionId};
use crate::domain::validation::FieldError;
use crate::ports::{CursorSeal, CustomerProfiles, EventReads, EventTimelines, StoreError, SubscriptionStore};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a read was not answered.
#[derive(Debug)]
pub enum ReadError {
    /// The request is wrong where `pointer` says (a cursor that does not open, filters that differ from it).
    Invalid(Vec<FieldError>),
    Store(StoreError),
}

impl From<StoreError> for ReadError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// One page of a listing, and the sealed cursor of the next.
#[derive(Debug)]
pub struct EventListing {
    pub events: Vec<StoredEvent>,
    pub next_cursor: Option<String>,
}

fn invalid(pointer: &str, detail: &str) -> ReadError {
    ReadError::Invalid(vec![FieldError {
        pointer: pointer.to_owned(),
        detail: detail.to_owned(),
    }])
}

/// A page of `store`'s events as `request` asks. With a cursor, the listing goes on where the cursor's
/// page ended, under the cursor's own query: filters sent with it must be the ones it was made with (or
/// none at all). A customer named by an identifier nobody owns has no events: an empty page.
pub async fn list_events(
    (store, seal): (
        &(impl EventTimelines + CustomerProfiles + Sync),
        &(impl CursorSeal + Sync),
    ),
    store_id: &StoreId,
    request: &ListRequest,
) -> Result<EventListing, ReadError> {
    let (query, filters, before) = match &request.cursor {
        Some(sealed) => {
            let state: CursorState =
                open_cursor(seal, store_id, sealed, |s: &CursorState| &s.store_id == store_id).await?;
            if !request.filters.is_empty() && request.filters != state.filters {
                return Err(invalid(
                    "/cursor",
                    "was made for other filters: send it with the filters of its listing, or with none",
                ));
            }
            (state.query, state.filters, Some(state.before))
        }
        None => {
            let customer = match request.filters.customer() {
                None => None,
                Some(who) => match customer_of(store, store_id, &who).await? {
                    Some(id) => Some(id),
                    None => {
                        return Ok(EventListing {
                            events: Vec::new(),
                            next_cursor: None,
                        })
                    }
                },
            };
            (
                EventQuery::of(&request.filters, customer),
                request.filters.clone(),
                None,
            )
        }
    };
    let page = store
        .timeline_page(store_id, &query, before.as_ref(), request.limit)
        .await?;
    let next_cursor = match page.next {
        None => None,
        Some(before) => {
            let state = CursorState {
                store_id: store_id.clone(),
                filters,
                query,
                before,
            };
            Some(seal_cursor(seal, store_id, &state).await?)
        }
    };
    Ok(EventListing {
        events: page.events,
        next_cursor,
    })
}

/// What `sealed` holds, when it is a cursor sealed for this store of the listing `belongs` accepts.
async fn open_cursor<T: DeserializeOwned>(
    seal: &impl CursorSeal,
    store_id: &StoreId,
    sealed: &str,
    belongs: impl Fn(&T) -> bool,
) -> Result<T, ReadError> {
    let refused = || invalid("/cursor", "is not a cursor of this listing: start again without it");
    let text = seal.open(store_id, sealed).await?.ok_or_else(refused)?;
    let state: T = serde_json::from_str(&text).map_err(|_| refused())?;
    match belongs(&state) {
        true => Ok(state),
        false => Err(refused()),
    }
}

async fn seal_cursor(seal: &impl CursorSeal, store_id: &StoreId, state: &impl Serialize) -> Result<String, ReadError> {
    let text = serde_json::to_string(state).expect("cursor states serialise");
    Ok(seal.seal(store_id, &text).await?)
}

/// One page of a subscription's ledger, and the sealed cursor of the next.
#[derive(Debug)]
pub struct DeliveryListing {
    pub records: Vec<DeliveryRecord>,
    pub next_cursor: Option<String>,
}

/// A page of the ledger of `subscription_id` (a subscription of `store_id`, already found) as `request`
/// asks. With a cursor, the listing goes on under the cursor's status: a status sent with it must be the
/// same. A cursor of another subscription, store or listing is refused.
pub async fn list_deliveries(
    (store, seal): (&(impl SubscriptionStore + Sync), &(impl CursorSeal + Sync)),
    (store_id, subscription_id): (&StoreId, &SubscriptionId),
    request: &DeliveryListRequest,
) -> Result<DeliveryListing, ReadError> {
    let query = match &request.cursor {
        Some(sealed) => {
            let belongs = |c: &DeliveryCursor| &c.store_id == store_id && &c.subscription_id == subscription_id;
            let state = open_cursor(seal, store_id, sealed, belongs).await?;
            if request.status.is_some() && request.status != state.status {
                return Err(invalid(
                    "/cursor",
                    "was made for another status: send it with the status of its listing, or with none",
                ));
            }
            DeliveryQuery {
                status: state.status,
                after: Some(state.after),
            }
        }
        None => DeliveryQuery {
            status: request.status,
            after: None,
        },
    };
    let page = store
        .deliveries(store_id, subscription_id, &query, request.limit)
        .await?;
    let next_cursor = match page.next {
        None => None,
        Some(after) => {
            let state = DeliveryCursor {
                store_id: store_id.clone(),
                subscription_id: subscription_id.clone(),
                status: query.status,
                after,
            };
            Some(seal_cursor(seal, store_id, &state).await?)
        }
    };
    Ok(DeliveryListing {
        records: page.records,
        next_cursor,
    })
}

/// The customer `who` names in the store, if it has one.
pub async fn customer_of(
    store: &impl CustomerProfiles,
    store_id: &StoreId,
    who: &CustomerRef,
) -> Result<Option<CustomerId>, StoreError> {
    match who {
        CustomerRef::Id(id) => Ok(Some(id.clone())),
        CustomerRef::Identifier(kind, value) => store.owner_of(store_id, *kind, value).await,
    }
}

/// The profile of the customer `who` names, or `None`.
pub async fn find_customer(
    store: &impl CustomerProfiles,
    store_id: &StoreId,
    who: &CustomerRef,
) -> Result<Option<Customer>, StoreError> {
    match customer_of(store, store_id, who).await? {
        Some(id) => store.profile(store_id, &id).await,
        None => Ok(None),
    }
}

/// One event of the store named by a path segment: our id, or (when no event has that id) the id its
/// client gave it (percent-decoded), with its ledger records; `None` when the store has no such event.
pub async fn find_event(
    store: &(impl EventReads + EventTimelines + Sync),
    store_id: &StoreId,
    segment: &str,
) -> Result<Option<(StoredEvent, Vec<DeliveryRecord>)>, StoreError> {
    let by_our_id = match EventId::parse(segment) {
        Ok(event_id) => store.stored_event(store_id, &event_id).await?,
        Err(_) => None,
    };
    let by_client_id = || async {
        match client_id_of_segment(segment) {
            Some(id) => store.event_by_unique_id(store_id, &id).await,
            None => Ok(None),
        }
    };
    let event = match by_our_id {
        Some(event) => event,
        None => match by_client_id().await? {
            Some(event) => event,
            None => return Ok(None),
        },
    };
    let mut deliveries = store.event_deliveries(store_id, &event.event_id).await?;
    deliveries.sort_by(|a, b| (&a.subscription_id, a.last_attempt_at).cmp(&(&b.subscription_id, b.last_attempt_at)));
    Ok(Some((event, deliveries)))
}
