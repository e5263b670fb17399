//! `PUT /stores/{storeId}/customers`: a profile written directly, with an event's patch semantics.

use collector_core::domain::api_key::Scope;
use collector_core::domain::custom_event::parse_profile_write;
use collector_core::domain::limits::MAX_EVENT_BODY_BYTES;
use collector_core::ports::{AdmissionStore, CustomerErasure, DispatchQueue, EventReads, IngestStore};
use collector_http::admission::{Arrival, Tenant};
use collector_http::edge::{authorized_json_body, Reply};
use collector_http::event_view::CustomerView;
use collector_http::Problem;
use lambda_http::http::StatusCode;
use lambda_http::Request;

use super::{problem_of, Handler};

impl<S, Q> Handler<S, Q>
where
    S: IngestStore + EventReads + AdmissionStore + CustomerErasure + Sync,
    Q: DispatchQueue + Sync,
{
    /// 201 with the profile it created, 200 with the one it updated. The write goes through the event
    /// pipeline as a `$profile` event (identity resolution, claims, per-field patch, dispatch), so customer
    /// subscribers hear of it as of any event's change; the profile is then read back, strongly consistent.
    pub(super) async fn put_profile(&self, request: (&Request, Arrival), path_store: &str) -> Result<Reply, Problem> {
        let doors = (&self.0.store, &self.0.admission);
        let access = (Tenant::InPath(path_store), Scope::CustomersWrite);
        let (caller, body) = authorized_json_body(doors, request, access, MAX_EVENT_BODY_BYTES, "the profile").await?;
        let write = parse_profile_write(&body).map_err(Problem::validation)?;
        let ingested = self.ingest(&caller, (&write).into()).await.map_err(problem_of)?;
        let profile = match &ingested.customer_id {
            Some(id) => IngestStore::customer(&self.0.store, &caller.store_id, id)
                .await
                .map_err(Problem::logged_store_error)?,
            None => None,
        };
        // Erased between the write and the read: the write stands, there is nothing to show.
        let profile = profile.ok_or_else(|| Problem::not_found("Customer"))?;
        let (status, label) = match ingested.customer_created {
            true => (StatusCode::CREATED, "created"),
            false => (StatusCode::OK, "updated"),
        };
        let body = serde_json::to_value(CustomerView::from(&profile)).expect("views serialise");
        let mut reply = Reply::new(status, label, Some(body));
        reply.detail = format!("customer {}", profile.customer_id);
        Ok(reply)
    }
}
