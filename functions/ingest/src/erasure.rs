//! `DELETE /stores/{storeId}/customers/{customerId}` and `DELETE /stores/{storeId}/customers?email=|phoneNumber=`.

use collector_core::domain::api_key::Scope;
use collector_core::domain::erasure::customer_ref;
use collector_core::ports::{AdmissionStore, CustomerErasure, DispatchQueue};
use collector_core::service::erasure::erase_customer;
use collector_http::admission::{Arrival, Tenant};
use collector_http::body::query_parameter;
use collector_http::edge::Reply;
use collector_http::openapi_customers::ErasureResponse;
use collector_http::Problem;
use lambda_http::http::StatusCode;
use lambda_http::Request;

use super::Handler;

impl<S, Q> Handler<S, Q>
where
    S: AdmissionStore + CustomerErasure + Sync,
    Q: DispatchQueue + Sync,
{
    /// 200 with what was removed; 202 when a very large customer needs another call; 404 for a customer the
    /// store does not have (also an id that cannot be one, and one erased already).
    pub(super) async fn accept_erasure(
        &self,
        (request, arrival): (&Request, Arrival),
        path_store: &str,
        customer: Option<&str>,
    ) -> Result<Reply, Problem> {
        let store = &self.0.store;
        let access = (Tenant::InPath(path_store), Scope::CustomersErase);
        let caller = self
            .0
            .admission
            .authorize(store, arrival, request.headers(), access)
            .await?;
        let (email, phone) = (
            query_parameter(request, "email"),
            query_parameter(request, "phoneNumber"),
        );
        let who = customer_ref(customer, email.as_deref(), phone.as_deref()).map_err(Problem::validation)?;
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
