//! DynamoDB: what admits a request. API keys (`APIKEY#<hash>`), the store's settings (on its `STORE#<s>`
//! item) and its rate counter, one item per second (`STORE#<s>#RATE#<second>`).

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::dynamo::{from_item, key, n, DynamoTable, Item};
use super::errors::sdk_error;
use super::keys;
use collector_core::domain::api_key::ApiKeyRecord;
use collector_core::domain::ids::StoreId;
use collector_core::domain::store_settings::StoreSettings;
use collector_core::ports::{AdmissionStore, Permits, StoreError};

/// How long a second's count is kept: long enough for any instance still deciding on that second.
const RATE_WINDOW_TTL_SECONDS: i64 = 60;

impl AdmissionStore for DynamoTable {
    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get("get api key", keys::api_key(key_hash))
            .await?
            .map(|item| from_item("api key item", item))
            .transpose()
    }

    async fn store_settings(&self, store: &StoreId) -> Result<StoreSettings, StoreError> {
        let item = self.get("get store settings", keys::store(store)).await?;
        Ok(item
            .map(|item| from_item("store item", item))
            .transpose()?
            .unwrap_or_default())
    }

    async fn take_permits(
        &self,
        store: &StoreId,
        window: i64,
        permits: u32,
        limit: u32,
    ) -> Result<Permits, StoreError> {
        let taken = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::rate_window(store, window))))
            .update_expression("ADD used :permits SET expiresAt = :expires")
            .condition_expression("attribute_not_exists(used) OR used <= :room")
            .expression_attribute_values(":permits", n(permits))
            .expression_attribute_values(":room", n(limit.saturating_sub(permits)))
            .expression_attribute_values(":expires", n(window + RATE_WINDOW_TTL_SECONDS))
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match taken {
            Ok(output) => Ok(Permits::Granted {
                counted: used(output.attributes.as_ref()).unwrap_or(permits),
            }),
            Err(error) => match error.as_service_error() {
                Some(e) if e.is_conditional_check_failed_exception() => {
                    let old = match e {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(
                            failed,
                        ) => failed.item.as_ref(),
                        _ => None,
                    };
                    // Without the old item (an emulator that leaves it out), the window counts as full.
                    Ok(Permits::Refused {
                        counted: used(old).unwrap_or(limit),
                    })
                }
                _ => Err(sdk_error("take rate permits", error)),
            },
        }
    }
}

fn used(item: Option<&Item>) -> Option<u32> {
    match item?.get("used")? {
        AttributeValue::N(count) => count.parse().ok(),
        _ => None,
    }
}
