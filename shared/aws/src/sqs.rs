//! SQS: the dispatch queue.

use std::collections::HashMap;

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;

use super::batches::batches;
use super::errors::{permanent, sdk_error};
use collector_core::domain::event::EventRef;
use collector_core::domain::redelivery::{DispatchMessage, REDRIVE};
use collector_core::domain::trace::{TraceContext, TRACEPARENT};
use collector_core::ports::{DispatchMessages, DispatchQueue, ErrorKind, MessageVisibility, StoreError};

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
        let messages = events
            .iter()
            .map(|event| Ok((body(event)?, attributes(event, trace)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        match self.send_batches(&messages, 0).await {
            0 => Ok(()),
            unsent => Err(StoreError {
                operation: "enqueue batch",
                kind: ErrorKind::Transient,
                message: format!("{unsent} of {} events not enqueued; they stay pending", events.len()),
            }),
        }
    }
}

impl SqsDispatchQueue {
    /// Sends the messages in `SendMessageBatch` calls, each entry tried up to [`BATCH_ATTEMPTS`] times; how
    /// many were not sent.
    async fn send_batches(
        &self,
        messages: &[(String, HashMap<String, MessageAttributeValue>)],
        delay_seconds: i32,
    ) -> usize {
        let mut unsent = 0;
        for range in batches(messages.iter().map(|(body, _)| body.len())) {
            let mut pending: Vec<usize> = range.collect();
            for attempt in 0..BATCH_ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                let entries = pending.iter().map(|&i| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&messages[i].0)
                        .set_message_attributes(Some(messages[i].1.clone()))
                        .delay_seconds(delay_seconds)
                        .build()
                        .expect("an entry has its id and body")
                });
                let sent = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries.collect()))
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
        unsent
    }
}

/// The attributes of a message that is not a stored event's own: its store and what it is about.
fn message_attributes(message: &DispatchMessage) -> Result<HashMap<String, MessageAttributeValue>, StoreError> {
    match message {
        DispatchMessage::Event(event) | DispatchMessage::Aimed { event, .. } => attributes(event, None),
        DispatchMessage::ReplayPage(page) => Ok(HashMap::from([
            ("storeId".to_owned(), string_attribute(page.store_id.as_str())?),
            ("replayId".to_owned(), string_attribute(&page.replay_id)?),
        ])),
    }
}

impl DispatchMessages for SqsDispatchQueue {
    async fn send(&self, messages: &[DispatchMessage], delay: std::time::Duration) -> Result<(), StoreError> {
        let messages = messages
            .iter()
            .map(|m| {
                let body = serde_json::to_string(m).map_err(|e| permanent("send dispatch messages", e))?;
                Ok((body, message_attributes(m)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // SQS delays a message 15 minutes at most.
        let delay_seconds = i32::try_from(delay.as_secs().min(900)).unwrap_or(900);
        match self.send_batches(&messages, delay_seconds).await {
            0 => Ok(()),
            unsent => Err(StoreError {
                operation: "send dispatch messages",
                kind: ErrorKind::Transient,
                message: format!("{unsent} of {} messages not sent", messages.len()),
            }),
        }
    }
}

impl SqsDispatchQueue {
    /// Sends up to `limit` messages of the dispatch queue's dead-letter queue (its `RedrivePolicy` names
    /// it) back to the dispatch queue, each marked with the [`REDRIVE`] attribute so its ledger attempts
    /// say so, and deletes each from the dead-letter queue once sent. How many moved. A crash between the
    /// send and the delete leaves a copy behind: redriving it again is safe (the ledger dedupes).
    pub async fn redrive_dead_letters(&self, limit: usize) -> Result<usize, StoreError> {
        const OP: &str = "redrive";
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
        let policy = attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
            .ok_or_else(|| permanent(OP, "the dispatch queue has no dead-letter queue"))?;
        let policy: serde_json::Value = serde_json::from_str(policy).map_err(|e| permanent(OP, e))?;
        let name = policy["deadLetterTargetArn"]
            .as_str()
            .and_then(|arn| arn.rsplit(':').next())
            .ok_or_else(|| permanent(OP, "the redrive policy names no queue"))?;
        let dead_letters = self
            .client
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?
            .queue_url
            .ok_or_else(|| permanent(OP, "no dead-letter queue URL"))?;
        let mut moved = 0;
        while moved < limit {
            let received = self
                .client
                .receive_message()
                .queue_url(&dead_letters)
                .max_number_of_messages(i32::try_from((limit - moved).min(10)).unwrap_or(10))
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let mut attributes = message.message_attributes.clone().unwrap_or_default();
                attributes.insert(REDRIVE.to_owned(), string_attribute("true")?);
                self.client
                    .send_message()
                    .queue_url(&self.queue_url)
                    .set_message_body(message.body.clone())
                    .set_message_attributes(Some(attributes))
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
                if let Some(receipt) = &message.receipt_handle {
                    self.client
                        .delete_message()
                        .queue_url(&dead_letters)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .map_err(|e| sdk_error(OP, e))?;
                }
                moved += 1;
            }
        }
        Ok(moved)
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
