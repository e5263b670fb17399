//! Erasing a customer on request: the profile, its identifiers, events and activity.

use crate::domain::erasure::{CustomerRef, Erasure};
use crate::domain::ids::{CustomerId, StoreId};
use crate::ports::{CustomerErasure, StoreError};

/// Records one call deletes at most (about: a round of the index is finished): well inside the ingest
/// function's 10 s timeout. A customer with more is answered `complete: false`, and the caller calls again.
pub const ERASURE_BUDGET: usize = 1_000;

/// Erases the customer `who` names in `store`. `None`: the store has no such customer, nothing was removed.
pub async fn erase_customer(
    erasure: &impl CustomerErasure,
    store: &StoreId,
    who: &CustomerRef,
) -> Result<Option<(CustomerId, Erasure)>, StoreError> {
    let customer = match who {
        CustomerRef::Id(id) => id.clone(),
        CustomerRef::Identifier(kind, value) => match erasure.identifier_owner(store, *kind, value).await? {
            Some(id) => id,
            None => return Ok(None),
        },
    };
    let erased = erasure.erase_customer(store, &customer, ERASURE_BUDGET).await?;
    if erased.complete && erased.removed.total() == 0 {
        return Ok(None);
    }
    Ok(Some((customer, erased)))
}
