//! Sending again through dispatch: `POST …/{id}/deliveries/{deliveryId}/redeliver`, `POST …/{id}/replay`,
//! `GET …/{id}/replays/{replayId}`, and the backfill a new subscription may ask for (`replayFrom`).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use collector_core::domain::delivery::DeliveryStatus;
use collector_core::domain::event::EventRef;
use collector_core::domain::redelivery::{event_of_message, parse_replay_request, ReplayRequest};
use collector_core::domain::subscription::Subscription;
use collector_core::ports::{AdmissionStore, DispatchMessages, Publisher, ReplayStore, SecretBox, SubscriptionStore};
use collector_core::service::redelivery::{ping, redeliver, start_replay};
use collector_http::edge::Reply;
use collector_http::subscription_view::ReplayView;
use collector_http::Problem;
use lambda_http::http::StatusCode;

use super::Handler;

/// Replays and redeliveries are sent by dispatch, to active subscriptions only.
fn inactive() -> Problem {
    Problem::conflict(
        "subscription-inactive",
        "The subscription is inactive",
        "reactivate it first (PUT with \"active\": true), then replay or redeliver",
        "/active",
    )
}

fn replay_view(replay: &collector_core::domain::redelivery::Replay) -> Value {
    serde_json::to_value(ReplayView::from(replay)).expect("views serialise")
}

impl<S, B, Q, P> Handler<S, B, Q, P>
where
    S: SubscriptionStore + ReplayStore + AdmissionStore + Sync,
    B: SecretBox + Sync,
    Q: DispatchMessages + Sync,
    P: Publisher + Sync,
{
    /// 200 with what the destination did with a `ping`: delivered or its error, and how long it took.
    pub(super) async fn test(&self, subscription: &Subscription, now: DateTime<Utc>) -> Reply {
        let ping = ping(&self.0.publisher, subscription, self.0.ids.as_ref(), now).await;
        let mut body = json!({
            "messageId": ping.id,
            "delivered": ping.status == DeliveryStatus::Delivered,
            "status": ping.status,
            "latencyMs": u64::try_from(ping.latency.as_millis()).unwrap_or(u64::MAX),
        });
        if let Some(error) = &ping.error {
            body["error"] = json!(error);
        }
        let mut reply = Reply::new(StatusCode::OK, "tested", Some(body));
        reply.detail = format!("{:?}", ping.status);
        reply
    }

    /// 202: the message is queued to be sent again, whatever its status; 404 for a message the
    /// subscription's ledger does not hold.
    pub(super) async fn redeliver(&self, subscription: &Subscription, delivery_id: &str) -> Result<Reply, Problem> {
        let not_found = || Problem::not_found("Delivery");
        let store_id = &subscription.store_id;
        let event_id = event_of_message(delivery_id).ok_or_else(not_found)?;
        self.0
            .store
            .delivery(store_id, &subscription.subscription_id, delivery_id)
            .await
            .map_err(Problem::logged_store_error)?
            .ok_or_else(not_found)?;
        if !subscription.active {
            return Err(inactive());
        }
        let event = EventRef {
            store_id: store_id.clone(),
            event_id,
        };
        redeliver(&self.0.queue, subscription, event, delivery_id)
            .await
            .map_err(Problem::logged_store_error)?;
        let body =
            json!({"subscriptionId": subscription.subscription_id, "messageId": delivery_id, "status": "queued"});
        Ok(Reply::new(StatusCode::ACCEPTED, "redelivery queued", Some(body)))
    }

    /// 202 with the replay, its pages queued.
    pub(super) async fn replay(
        &self,
        subscription: &Subscription,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<Reply, Problem> {
        let request = parse_replay_request(body, now).map_err(Problem::validation)?;
        if !subscription.active {
            return Err(inactive());
        }
        let replay = self.start(subscription, &request, now).await?;
        Ok(Reply::new(
            StatusCode::ACCEPTED,
            "replay started",
            Some(replay_view(&replay)),
        ))
    }

    /// The backfill of a subscription just created: every event since `since`.
    pub(super) async fn backfill(
        &self,
        subscription: &Subscription,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Value, Problem> {
        let request = ReplayRequest {
            since: since.min(now),
            until: None,
            only_undelivered: false,
        };
        Ok(replay_view(&self.start(subscription, &request, now).await?))
    }

    async fn start(
        &self,
        subscription: &Subscription,
        request: &ReplayRequest,
        now: DateTime<Utc>,
    ) -> Result<collector_core::domain::redelivery::Replay, Problem> {
        let ports = (&self.0.store, &self.0.queue, self.0.ids.as_ref());
        start_replay(ports, subscription, request, now)
            .await
            .map_err(Problem::logged_store_error)
    }

    pub(super) async fn read_replay(&self, subscription: &Subscription, replay_id: &str) -> Result<Reply, Problem> {
        let not_found = || Problem::not_found("Replay");
        // Replay ids are 24 hex characters; anything else names none (and never reaches the key).
        if replay_id.len() != 24 || !replay_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let replay = self
            .0
            .store
            .replay(&subscription.store_id, &subscription.subscription_id, replay_id)
            .await
            .map_err(Problem::logged_store_error)?
            .ok_or_else(not_found)?;
        Ok(Reply::new(StatusCode::OK, "found", Some(replay_view(&replay))))
    }
}
