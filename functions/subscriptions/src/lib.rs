//! `/api/v1/event-subscription`: create, list, read, update, deactivate and delete subscriptions, rotate a
//! webhook's signing secret, read a subscription's delivery attempts, redeliver one, and replay a time range
//! (`redelivery.rs`). The tenant is the API key's store.

mod redelivery;
pub mod wiring;

use collector_core::domain::api_key::Scope;
use collector_core::domain::delivery_listing::parse_delivery_listing;
use collector_core::domain::ids::{StoreId, SubscriptionId};
use collector_core::domain::subscription::Subscription;
use collector_core::domain::subscription_input::parse_subscription;
use collector_core::ports::{
    AdmissionStore, CursorSeal, DispatchMessages, Publisher, ReplayStore, SecretBox, SubscriptionStore,
};
use collector_core::service::reads::list_deliveries;
use collector_core::service::subscriptions::{self, Saved, SubscriptionError, SubscriptionPorts};
use collector_http::admission::{Arrival, Tenant};
use collector_http::body::{path_with_query, query_parameter, query_parameter_names};
use collector_http::edge::{arrival, json_body, respond_reply, Reply, SubscriptionDeps};
use collector_http::routes::{route_path, Routes};
use collector_http::runtime::HttpHandler;
use collector_http::subscription_view::{DeliveryView, SubscriptionView};
use collector_http::Problem;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;

/// Subscription bodies are small; this is generous.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The endpoint over its dependencies.
pub struct Handler<S, B, Q, P>(SubscriptionDeps<S, B, Q, P>);

impl<S, B, Q, P> From<SubscriptionDeps<S, B, Q, P>> for Handler<S, B, Q, P> {
    fn from(deps: SubscriptionDeps<S, B, Q, P>) -> Self {
        Self(deps)
    }
}

impl<S, B, Q, P> HttpHandler for Handler<S, B, Q, P>
where
    S: SubscriptionStore + ReplayStore + AdmissionStore + Sync,
    B: SecretBox + CursorSeal + Sync,
    Q: DispatchMessages + Sync,
    P: Publisher + Sync,
{
    async fn handle(&self, request: Request) -> Response<Body> {
        Handler::handle(self, request).await
    }
}

/// What a request of this function asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    List,
    Create,
    Replace,
    Get,
    Delete,
    Deactivate,
    RotateSecret,
    Deliveries,
    Redeliver,
    Replay,
    GetReplay,
    Test,
}

/// The function's routes, as `template.yaml` routes them here.
pub static ROUTES: Routes<Endpoint> = Routes(&[
    ("GET", "/api/v1/event-subscription", Endpoint::List),
    ("POST", "/api/v1/event-subscription", Endpoint::Create),
    ("PUT", "/api/v1/event-subscription", Endpoint::Replace),
    ("GET", "/api/v1/event-subscription/{id}", Endpoint::Get),
    ("DELETE", "/api/v1/event-subscription/{id}", Endpoint::Delete),
    (
        "PUT",
        "/api/v1/event-subscription/{id}/deactivate",
        Endpoint::Deactivate,
    ),
    (
        "POST",
        "/api/v1/event-subscription/{id}/rotate-secret",
        Endpoint::RotateSecret,
    ),
    (
        "GET",
        "/api/v1/event-subscription/{id}/deliveries",
        Endpoint::Deliveries,
    ),
    (
        "POST",
        "/api/v1/event-subscription/{id}/deliveries/{deliveryId}/redeliver",
        Endpoint::Redeliver,
    ),
    ("POST", "/api/v1/event-subscription/{id}/replay", Endpoint::Replay),
    (
        "GET",
        "/api/v1/event-subscription/{id}/replays/{replayId}",
        Endpoint::GetReplay,
    ),
    ("POST", "/api/v1/event-subscription/{id}/test", Endpoint::Test),
]);

fn ok(status: StatusCode, label: &str, body: Option<Value>) -> Result<Reply, Problem> {
    Ok(Reply::new(status, label, body))
}

fn view(saved: &Saved) -> Value {
    let view = SubscriptionView::new(&saved.subscription, saved.new_signing_secret.clone());
    serde_json::to_value(view).expect("views serialise")
}

fn problem_of(error: SubscriptionError) -> Problem {
    match error {
        SubscriptionError::NotFound => Problem::not_found("Subscription"),
        SubscriptionError::MissingId => Problem::validation(vec![collector_core::domain::validation::FieldError {
            pointer: "/id".to_owned(),
            detail: "is required: the id of the subscription to update".to_owned(),
        }]),
        SubscriptionError::NotAWebhook => Problem::conflict(
            "not-a-webhook",
            "Only webhook subscriptions have a signing secret",
            "this subscription's destination is not a WEBHOOK",
            "/destination/type",
        ),
        SubscriptionError::Store(error) => Problem::logged_store_error(error),
    }
}

impl<S, B, Q, P> Handler<S, B, Q, P>
where
    S: SubscriptionStore + ReplayStore + AdmissionStore + Sync,
    B: SecretBox + CursorSeal + Sync,
    Q: DispatchMessages + Sync,
    P: Publisher + Sync,
{
    /// Answers one request. Never fails: every error is a problem response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let arrival = arrival(&request, self.0.clock.as_ref());
        respond_reply(&request, ("subscriptions", arrival), self.accept(&request, arrival)).await
    }

    fn ports(&self) -> SubscriptionPorts<'_, S, B> {
        SubscriptionPorts {
            store: &self.0.store,
            secrets: &self.0.secrets,
            ids: self.0.ids.as_ref(),
        }
    }

    async fn accept(&self, request: &Request, arrival: Arrival) -> Result<Reply, Problem> {
        let matched = ROUTES.resolve(request.method().as_str(), route_path(request))?;
        let scope = match matched.to {
            Endpoint::List | Endpoint::Get | Endpoint::Deliveries | Endpoint::GetReplay => Scope::SubscriptionsRead,
            _ => Scope::SubscriptionsWrite,
        };
        let access = (Tenant::OfKey, scope);
        let caller = self
            .0
            .admission
            .authorize(&self.0.store, arrival, request.headers(), access)
            .await?;
        let store_id = &caller.store_id;
        let now = caller.now;
        let id = || matched.param("id");
        match matched.to {
            Endpoint::List => {
                let all = self
                    .0
                    .store
                    .subscriptions(store_id)
                    .await
                    .map_err(Problem::logged_store_error)?;
                let views: Vec<_> = all.iter().map(|s| SubscriptionView::new(s, None)).collect();
                ok(
                    StatusCode::OK,
                    "listed",
                    Some(serde_json::to_value(views).expect("views serialise")),
                )
            }
            Endpoint::Create => {
                let input =
                    parse_subscription(&self.json_body(request)?, self.0.policy).map_err(Problem::validation)?;
                let backfill = input.replay_from;
                let saved = subscriptions::create(&self.ports(), store_id, input, now)
                    .await
                    .map_err(problem_of)?;
                let mut body = view(&saved);
                if let Some(since) = backfill {
                    body["replay"] = self.backfill(&saved.subscription, since, now).await?;
                }
                ok(StatusCode::CREATED, "created", Some(body))
            }
            Endpoint::Replace => {
                let input =
                    parse_subscription(&self.json_body(request)?, self.0.policy).map_err(Problem::validation)?;
                let saved = subscriptions::replace(&self.ports(), store_id, input, now)
                    .await
                    .map_err(problem_of)?;
                ok(StatusCode::OK, "updated", Some(view(&saved)))
            }
            Endpoint::Get => {
                let found = self.find(store_id, id()).await?;
                ok(
                    StatusCode::OK,
                    "found",
                    Some(view(&Saved {
                        subscription: found,
                        new_signing_secret: None,
                    })),
                )
            }
            Endpoint::Delete => {
                let id = parse_id(id())?;
                match self
                    .0
                    .store
                    .delete_subscription(store_id, &id)
                    .await
                    .map_err(Problem::logged_store_error)?
                {
                    true => ok(StatusCode::NO_CONTENT, "deleted", None),
                    false => Err(Problem::not_found("Subscription")),
                }
            }
            Endpoint::Deactivate => {
                let id = parse_id(id())?;
                let deactivated = self
                    .0
                    .store
                    .deactivate_subscription(store_id, &id, "deactivated through the API", now)
                    .await
                    .map_err(Problem::logged_store_error)?
                    .ok_or_else(|| Problem::not_found("Subscription"))?;
                ok(
                    StatusCode::OK,
                    "deactivated",
                    Some(view(&Saved {
                        subscription: deactivated,
                        new_signing_secret: None,
                    })),
                )
            }
            Endpoint::RotateSecret => {
                let id = parse_id(id())?;
                let saved = subscriptions::rotate_secret(&self.ports(), store_id, &id, now)
                    .await
                    .map_err(problem_of)?;
                ok(StatusCode::OK, "rotated", Some(view(&saved)))
            }
            Endpoint::Deliveries => {
                let found = self.find(store_id, id()).await?;
                self.deliveries(request, &found).await
            }
            Endpoint::Redeliver => {
                let found = self.find(store_id, id()).await?;
                self.redeliver(&found, matched.param("deliveryId")).await
            }
            Endpoint::Replay => {
                let found = self.find(store_id, id()).await?;
                self.replay(&found, &self.json_body(request)?, now).await
            }
            Endpoint::GetReplay => {
                let found = self.find(store_id, id()).await?;
                self.read_replay(&found, matched.param("replayId")).await
            }
            Endpoint::Test => {
                let found = self.find(store_id, id()).await?;
                Ok(self.test(&found, now).await)
            }
        }
    }

    async fn find(&self, store_id: &StoreId, id: &str) -> Result<Subscription, Problem> {
        let id = parse_id(id)?;
        self.0
            .store
            .subscription(store_id, &id)
            .await
            .map_err(Problem::logged_store_error)?
            .ok_or_else(|| Problem::not_found("Subscription"))
    }

    /// A page of the ledger as a plain array, latest attempt first; the next page in a `Link` header.
    async fn deliveries(&self, request: &Request, found: &Subscription) -> Result<Reply, Problem> {
        let names = query_parameter_names(request);
        let asked =
            parse_delivery_listing(&names, |name| query_parameter(request, name)).map_err(Problem::validation)?;
        let at = (&found.store_id, &found.subscription_id);
        let listing = list_deliveries((&self.0.store, &self.0.secrets), at, &asked).await?;
        let views: Vec<DeliveryView> = listing.records.into_iter().map(DeliveryView::from).collect();
        let mut reply = Reply::new(
            StatusCode::OK,
            "listed",
            Some(serde_json::to_value(&views).expect("views serialise")),
        );
        reply.detail = format!("{} deliveries", views.len());
        reply.link_next = listing.next_cursor.map(|cursor| {
            let limit = asked.limit.to_string();
            path_with_query(request, &[("limit", limit.as_str()), ("cursor", cursor.as_str())])
        });
        Ok(reply)
    }

    fn json_body(&self, request: &Request) -> Result<Value, Problem> {
        json_body(request, MAX_BODY_BYTES, "the subscription")
    }
}

/// A malformed id names no subscription: 404, like a missing one.
fn parse_id(raw: &str) -> Result<SubscriptionId, Problem> {
    SubscriptionId::parse(raw).map_err(|_| Problem::not_found("Subscription"))
}
