//! DynamoDB: replays (`STORE#<s>#SUB#<id>#REPLAYS` / `REPLAY#<replayId>`), their progress, and the counts
//! dispatch adds to them.

use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamo::{from_item, item_of, key, n, s, DynamoTable, Item};
use super::errors::{is_condition_failure, sdk_error};
use super::keys;
use chrono::{DateTime, Utc};
use collector_core::domain::event_listing::Position;
use collector_core::domain::ids::{StoreId, SubscriptionId};
use collector_core::domain::redelivery::Replay;
use collector_core::ports::{ReplayStore, StoreError};

/// Where the next page starts, as the timeline's own key (the domain keeps no key format).
const NEXT_KEY: &str = "nextKey";

fn replay_of(mut item: Item) -> Result<Replay, StoreError> {
    let next = match item.remove(NEXT_KEY) {
        Some(AttributeValue::S(key)) => keys::parse_timeline_key(&key),
        _ => None,
    };
    let mut replay: Replay = from_item("replay item", item)?;
    replay.next = next;
    Ok(replay)
}

impl ReplayStore for DynamoTable {
    async fn create_replay(&self, replay: &Replay) -> Result<(), StoreError> {
        let at = keys::replay(&replay.store_id, &replay.subscription_id, &replay.replay_id);
        self.put_new("create replay", item_of("replay item", at, replay)?).await
    }

    async fn replay(
        &self,
        store: &StoreId,
        subscription: &SubscriptionId,
        replay_id: &str,
    ) -> Result<Option<Replay>, StoreError> {
        self.get("get replay", keys::replay(store, subscription, replay_id))
            .await?
            .map(replay_of)
            .transpose()
    }

    async fn advance_replay(
        &self,
        replay: &Replay,
        matched: u64,
        next: Option<&Position>,
        finished_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let at = keys::replay(&replay.store_id, &replay.subscription_id, &replay.replay_id);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(at)))
            .expression_attribute_names("#next", NEXT_KEY)
            .expression_attribute_values(":matched", n(matched));
        let mut set = Vec::new();
        let mut remove = Vec::new();
        match next {
            Some(position) => {
                update = update.expression_attribute_values(":next", s(keys::timeline_key(position)));
                set.push("#next = :next");
            }
            None => remove.push("#next"),
        }
        if let Some(at) = finished_at {
            let at = serde_dynamo::to_attribute_value(at).map_err(|e| super::errors::permanent("advance replay", e))?;
            update = update.expression_attribute_values(":finished", at);
            set.push("finishedAt = :finished");
        }
        // Only from where this page started: a page handled twice moves it once.
        update = match &replay.next {
            Some(from) => update
                .expression_attribute_values(":from", s(keys::timeline_key(from)))
                .condition_expression("#next = :from AND attribute_not_exists(finishedAt)"),
            None => update.condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(#next) AND attribute_not_exists(finishedAt)",
            ),
        };
        let mut expression = "ADD matched :matched".to_owned();
        if !set.is_empty() {
            expression = format!("SET {} {expression}", set.join(", "));
        }
        if !remove.is_empty() {
            expression = format!("{expression} REMOVE {}", remove.join(", "));
        }
        match update.update_expression(expression).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(false),
            Err(e) => Err(sdk_error("advance replay", e)),
        }
    }
}

impl DynamoTable {
    /// Adds a dispatch's sends to its replay, if the replay still exists.
    pub(super) async fn count_replay_sends(
        &self,
        store: &StoreId,
        subscription: &SubscriptionId,
        replay_id: &str,
        (sent, failed): (u64, u64),
    ) -> Result<(), StoreError> {
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::replay(store, subscription, replay_id))))
            .update_expression("ADD sent :sent, failed :failed")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":sent", n(sent))
            .expression_attribute_values(":failed", n(failed))
            .send()
            .await;
        match counted {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(()),
            Err(e) => Err(sdk_error("count replay", e)),
        }
    }
}
