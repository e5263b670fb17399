//! `DELETE /stores/{storeId}/customers/{customerId}` and `DELETE /stores/{storeId}/customers?email=|phoneNumber=`.

use collector_core::domain::api_key::Scope;
use collector_core::domain::erasure::customer_ref;
use collector_core::ports::{AdmissionStore, CustomerErasure, DispatchQueue, IngestStore};
use collector_core::service::erasure::erase_customer;
use collector_http::auth::authorize;
use collector_http::body::{query_parameter, segment_after};
use collector_http::edge::Reply;
use collector_http::openapi_customers::ErasureResponse;
use collector_http::Problem;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Request, RequestExt};

use super::Handler;

/// `/stores/{storeId}/customers`, with or without an id after it.
pub fn is_customers_path(path: &str) -> bool {
    let mut segments = path.trim_end_matches('/').rsplit('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some("customers"), Some(_), Some("stores")) => true,
        (Some(_), Some("customers"), Some(_)) => segments.next() == Some("stores"),
        _ => false,
    }
}

impl<S, Q> Handler<S, Q>
where
    S: IngestStore + AdmissionStore + CustomerErasure + Sync,
    Q: DispatchQueue + Sync,
{
    /// 200 with what was removed; 202 when a very large customer needs another call; 404 for a customer the
    /// store does not have (also an id that cannot be one, and one erased already).
    pub(super) async fn accept_erasure(&self, request: &Request) -> Result<Reply, Problem> {
        if request.method() != Method::DELETE {
            return Err(Problem::method_not_allowed("DELETE"));
        }
        let path = request.raw_http_path();
        let path_store = segment_after(path, "stores").ok_or_else(|| Problem::not_found("Store"))?;
        let (store, admission) = (&self.0.store, &self.0.admission);
        let caller = authorize(store, admission, request.headers(), path_store, Scope::CustomersErase).await?;
        let (email, phone) = (
            query_parameter(request, "email"),
            query_parameter(request, "phoneNumber"),
        );
        let who = customer_ref(segment_after(path, "customers"), email.as_deref(), phone.as_deref())
            .map_err(Problem::validation)?;
        let not_found = || Problem::not_found("Customer");
        let who = who.ok_or_else(not_found)?;
        let (customer, erasure) = erase_customer(store, &caller.store_id, &who)
            .await
            .map_err(Problem::logged_store_error)?
            .ok_or_else(not_found)?;
        let (status, label) = match erasure.complete {
            true => (StatusCode::OK, "erased"),
            false => (StatusCode::ACCEPTED, "partly-erased"),
        };
        let body = ErasureResponse {
            customer_id: customer.to_string(),
            complete: erasure.complete,
            removed: erasure.removed,
        };
        let mut reply = Reply::new(
            status,
            label,
            Some(serde_json::to_value(&body).expect("responses serialise")),
        );
        reply.detail = format!("customer {customer}: {} records", body.removed.total());
        Ok(reply)
    }
}
