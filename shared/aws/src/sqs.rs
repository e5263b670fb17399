//! SQS: the dispatch queue.

use std::collections::HashMap;

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;

use super::batches::batches;
use super::errors::{permanent, sdk_error};
use collector_core::domain::event::EventRef;
use collector_core::domain::trace::{TraceContext, TRACEPARENT};
use collector_core::ports::{DispatchQueue, ErrorKind, MessageVisibility, StoreError};

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

    /// The queue at `queue_url` with a client built from `sdk` (no connection is opened).
    pub fn from_sdk(sdk: &aws_config::SdkConfig, queue_url: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), queue_url)
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, StoreError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| permanent("enqueue", e))
}

/// Sends of entries that failed in a batch, before giving up on them (they stay pending for the sweep).
const BATCH_ATTEMPTS: usize = 4;

fn attributes(
    event: &EventRef,
    trace: Option<&TraceContext>,
) -> Result<HashMap<String, MessageAttributeValue>, StoreError> {
    let mut attributes = HashMap::from([
        ("storeId".to_owned(), string_attribute(event.store_id.as_str())?),
        ("eventId".to_owned(), string_attribute(event.event_id.as_str())?),
    ]);
    if let Some(trace) = trace {
        attributes.insert(TRACEPARENT.to_owned(), string_attribute(&trace.to_string())?);
    }
    Ok(attributes)
}

fn body(event: &EventRef) -> Result<String, StoreError> {
    serde_json::to_string(event).map_err(|e| permanent("enqueue", e))
}

impl DispatchQueue for SqsDispatchQueue {
    async fn enqueue(&self, event: &EventRef, trace: Option<&TraceContext>) -> Result<(), StoreError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body(event)?)
            .set_message_attributes(Some(attributes(event, trace)?))
            .send()
            .await
            .map_err(|e| sdk_error("enqueue", e))?;
        Ok(())
    }

    async fn enqueue_many(&self, events: &[EventRef], trace: Option<&TraceContext>) -> Result<(), StoreError> {
        let bodies = events.iter().map(body).collect::<Result<Vec<_>, _>>()?;
        let mut unsent = 0;
        for range in batches(bodies.iter().map(String::len)) {
            let mut pending: Vec<usize> = range.collect();
            for attempt in 0..BATCH_ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                let entries = pending
                    .iter()
                    .map(|&i| {
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(&bodies[i])
                            .set_message_attributes(Some(attributes(&events[i], trace)?))
                            .build()
                            .map_err(|e| permanent("enqueue batch", e))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let sent = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await;
                pending = match sent {
                    Ok(output) => output.failed().iter().filter_map(|f| f.id().parse().ok()).collect(),
                    Err(error) => {
                        tracing::warn!(error = %sdk_error("enqueue batch", error), "batch send failed");
                        pending
                    }
                };
                if pending.is_empty() {
                    break;
                }
            }
            unsent += pending.len();
        }
        if unsent == 0 {
            Ok(())
        } else {
            Err(StoreError {
                operation: "enqueue batch",
                kind: ErrorKind::Transient,
                message: format!("{unsent} of {} events not enqueued; they stay pending", events.len()),
            })
        }
    }
}

impl MessageVisibility for SqsDispatchQueue {
    async fn redeliver_after(&self, receipt_handle: &str, delay: std::time::Duration) -> Result<(), StoreError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(i32::try_from(delay.as_secs()).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error("change visibility", e))?;
        Ok(())
    }
}
