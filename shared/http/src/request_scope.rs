//! What the edge learns about a request while its endpoint runs, for the request's log line and response
//! headers only: the store its key opened, the event it stored, the rate limiter's status. Nothing an
//! endpoint decides on travels here: what the use cases need (store, settings, trace, the time) is in the
//! [`crate::admission::Caller`].

use std::cell::RefCell;
use std::future::Future;

use collector_core::domain::ids::StoreId;
use collector_core::domain::rate_limit::RateStatus;

tokio::task_local! {
    static CURRENT: RefCell<RequestScope>;
}

/// One request's facts, as far as they are known.
#[derive(Debug, Clone, Default)]
pub struct RequestScope {
    /// The store the caller's key belongs to, once the key is checked.
    pub store_id: Option<StoreId>,
    /// The event the request stored or found.
    pub event_id: Option<String>,
    /// The rate limiter's status of the request, for the `RateLimit-*` headers.
    pub rate: Option<RateStatus>,
}

/// Runs `endpoint` within `scope`; returns its output and the scope as the endpoint left it.
pub async fn within<T>(scope: RequestScope, endpoint: impl Future<Output = T>) -> (T, RequestScope) {
    CURRENT
        .scope(RefCell::new(scope), async {
            let output = endpoint.await;
            (output, CURRENT.with(RefCell::take))
        })
        .await
}

/// Records a fact of the request being answered. Outside [`within`] (a test calling an endpoint's parts
/// directly) there is no request to record it on, and nothing happens.
pub fn note(fact: impl FnOnce(&mut RequestScope)) {
    let _ = CURRENT.try_with(|scope| fact(&mut scope.borrow_mut()));
}

/// Records the event the request being answered stored or found.
pub fn note_event(event_id: &str) {
    note(|scope| scope.event_id = Some(event_id.to_owned()));
}
