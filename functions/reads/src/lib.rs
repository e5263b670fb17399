//! Reading back what a store sent: `GET /stores/{storeId}/events` (newest first, by customer, event name
//! and time range, in sealed-cursor pages), `GET /stores/{storeId}/events/{eventId}` (the event with its
//! deliveries), `GET /stores/{storeId}/customers?email=|phoneNumber=` and
//! `GET /stores/{storeId}/customers/{customerId}` (the profile). Reads only: its role can write nothing but
//! the rate limiter's counter.

pub mod wiring;

use collector_core::domain::api_key::Scope;
use collector_core::domain::erasure::customer_ref;
use collector_core::domain::event_listing::parse_list_request;
use collector_core::domain::ids::StoreId;
use collector_core::ports::{AdmissionStore, CursorSeal, CustomerProfiles, EventReads, EventTimelines};
use collector_core::service::reads::{find_customer, find_event, list_events};
use collector_http::admission::{Arrival, Tenant};
use collector_http::body::{query_parameter, query_parameter_names};
use collector_http::edge::{arrival, respond_reply, ReadDeps, Reply};
use collector_http::event_view::{CustomerView, DeliverySummary, EventPage, EventView};
use collector_http::routes::{route_path, Routes};
use collector_http::runtime::HttpHandler;
use collector_http::Problem;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

/// What a request of this function asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ListEvents,
    Event,
    FindCustomer,
    Customer,
}

/// The function's routes, as `template.yaml` routes them here.
pub static ROUTES: Routes<Endpoint> = Routes(&[
    ("GET", "/stores/{storeId}/events", Endpoint::ListEvents),
    ("GET", "/stores/{storeId}/events/{eventId}", Endpoint::Event),
    ("GET", "/stores/{storeId}/customers", Endpoint::FindCustomer),
    ("GET", "/stores/{storeId}/customers/{customerId}", Endpoint::Customer),
]);

/// The endpoint over its dependencies.
pub struct Handler<S, C>(ReadDeps<S, C>);

impl<S, C> From<ReadDeps<S, C>> for Handler<S, C> {
    fn from(deps: ReadDeps<S, C>) -> Self {
        Self(deps)
    }
}

impl<S, C> HttpHandler for Handler<S, C>
where
    S: EventTimelines + EventReads + CustomerProfiles + AdmissionStore + Sync,
    C: CursorSeal + Sync,
{
    async fn handle(&self, request: Request) -> Response<Body> {
        Handler::handle(self, request).await
    }
}

fn json(body: &impl serde::Serialize) -> Option<serde_json::Value> {
    Some(serde_json::to_value(body).expect("views serialise"))
}

impl<S, C> Handler<S, C>
where
    S: EventTimelines + EventReads + CustomerProfiles + AdmissionStore + Sync,
    C: CursorSeal + Sync,
{
    /// Answers one request. Never fails: every error is a problem response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let arrival = arrival(&request, self.0.clock.as_ref());
        respond_reply(&request, ("reads", arrival), self.accept(&request, arrival)).await
    }

    async fn accept(&self, request: &Request, arrival: Arrival) -> Result<Reply, Problem> {
        let matched = ROUTES.resolve(request.method().as_str(), route_path(request))?;
        let scope = match matched.to {
            Endpoint::ListEvents | Endpoint::Event => Scope::EventsRead,
            Endpoint::FindCustomer | Endpoint::Customer => Scope::CustomersRead,
        };
        let access = (Tenant::InPath(matched.param("storeId")), scope);
        let caller = self
            .0
            .admission
            .authorize(&self.0.store, arrival, request.headers(), access)
            .await?;
        let store_id = &caller.store_id;
        match matched.to {
            Endpoint::ListEvents => self.list(request, store_id).await,
            Endpoint::Event => {
                let (event, deliveries) = find_event(&self.0.store, store_id, matched.param("eventId"))
                    .await
                    .map_err(Problem::logged_store_error)?
                    .ok_or_else(|| Problem::not_found("Event"))?;
                let mut view = EventView::from(&event);
                view.deliveries = Some(deliveries.iter().map(DeliverySummary::from).collect());
                Ok(Reply::new(StatusCode::OK, "found", json(&view)))
            }
            Endpoint::FindCustomer | Endpoint::Customer => {
                let path_id = (matched.to == Endpoint::Customer).then(|| matched.param("customerId"));
                let (email, phone) = (
                    query_parameter(request, "email"),
                    query_parameter(request, "phoneNumber"),
                );
                let not_found = || Problem::not_found("Customer");
                let who = customer_ref(path_id, email.as_deref(), phone.as_deref())
                    .map_err(Problem::validation)?
                    .ok_or_else(not_found)?;
                let customer = find_customer(&self.0.store, store_id, &who)
                    .await
                    .map_err(Problem::logged_store_error)?
                    .ok_or_else(not_found)?;
                Ok(Reply::new(
                    StatusCode::OK,
                    "found",
                    json(&CustomerView::from(&customer)),
                ))
            }
        }
    }

    async fn list(&self, request: &Request, store_id: &StoreId) -> Result<Reply, Problem> {
        let names = query_parameter_names(request);
        let asked = parse_list_request(&names, |name| query_parameter(request, name)).map_err(Problem::validation)?;
        let listing = list_events((&self.0.store, &self.0.seal), store_id, &asked)
            .await
            .map_err(Problem::from)?;
        let page = EventPage {
            events: listing.events.iter().map(EventView::from).collect(),
            next_cursor: listing.next_cursor,
        };
        let mut reply = Reply::new(StatusCode::OK, "listed", json(&page));
        reply.detail = format!("{} events", page.events.len());
        Ok(reply)
    }
}
