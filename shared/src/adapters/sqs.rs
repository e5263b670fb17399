//! SQS: the dispatch queue.

use aws_sdk_sqs::types::MessageAttributeValue;
use aws_sdk_sqs::Client;

use super::errors::{permanent, sdk_error};
use crate::domain::event::StoredEvent;
use crate::ports::{DispatchQueue, StoreError};

#[derive(Debug, Clone)]
pub struct SqsDispatchQueue {
    client: Client,
    queue_url: String,
}

impl SqsDispatchQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, StoreError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| permanent("enqueue", e))
}

impl DispatchQueue for SqsDispatchQueue {
    async fn enqueue(&self, event: &StoredEvent) -> Result<(), StoreError> {
        let body = serde_json::to_string(event).map_err(|e| permanent("enqueue", e))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes("storeId", string_attribute(event.store_id.as_str())?)
            .message_attributes("eventId", string_attribute(event.event_id.as_str())?)
            .send()
            .await
            .map_err(|e| sdk_error("enqueue", e))?;
        Ok(())
    }
}
