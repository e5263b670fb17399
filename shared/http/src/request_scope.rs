//! What the edge learns about a request while its endpoint runs: the trace it belongs to, the store its key
//! opened, the event it stored, the rate limiter's status. Read back after the endpoint for the request's
//! log line and response headers, so no endpoint has to hand them up through its return type.

use std::cell::RefCell;
use std::future::Future;

use collector_core::domain::ids::StoreId;
use collector_core::domain::rate_limit::RateStatus;
use collector_core::domain::trace::TraceContext;

tokio::task_local! {
    static CURRENT: RefCell<RequestScope>;
}

/// One request's facts, as far as they are known.
#[derive(Debug, Clone, Default)]
pub struct RequestScope {
    /// This request's hop of the trace: continued from its `traceparent`, or started here.
    pub trace: Option<TraceContext>,
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

/// The trace of the request being answered, to hand on with what it enqueues.
pub fn current_trace() -> Option<TraceContext> {
    CURRENT.try_with(|scope| scope.borrow().trace).ok().flatten()
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
