//! The dispatch function: an SQS batch of stored-event references in, per-message failures out
//! (`ReportBatchItemFailures`). A message that cannot be read fails alone; a message whose deliveries failed
//! transiently comes back after the retry schedule's delay.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use shared::domain::event::EventRef;
use shared::ports::{Clock, DispatchStore, IdGenerator, MessageVisibility, Publisher, RandomIds};
use shared::service::dispatch::{dispatch, DispatchCounts, DispatchItem, ItemOutcome};

/// What dispatch needs, built once per cold start.
pub struct Handler<S, P, Q> {
    pub store: S,
    pub publisher: P,
    /// The dispatch queue, to delay the redelivery of messages with failed deliveries.
    pub queue: Q,
    pub clock: Box<dyn Clock>,
}

impl<S, P, Q> Handler<S, P, Q>
where
    S: DispatchStore + Sync,
    P: Publisher + Sync,
    Q: MessageVisibility + Sync,
{
    /// Handles one batch; never fails as a whole.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle_counted(event).await.0
    }

    /// [`Handler::handle`], with what was delivered.
    pub async fn handle_counted(&self, event: SqsEvent) -> (SqsBatchResponse, DispatchCounts) {
        let mut response = SqsBatchResponse::default();
        let mut items = Vec::new();
        let mut received: Vec<&SqsMessage> = Vec::new();
        for record in &event.records {
            match parse(record) {
                Some(item) => {
                    items.push(item);
                    received.push(record);
                }
                None => {
                    tracing::error!(
                        message_id = record.message_id.as_deref().unwrap_or("-"),
                        "unreadable dispatch message"
                    );
                    fail(&mut response, record);
                }
            }
        }
        let jitter = f64::from(RandomIds.secret()[0]) / 256.0;
        // Boxed: a batch's state machine is large; the runtime's stack need not carry it.
        let (outcomes, counts) =
            Box::pin(dispatch(&self.store, &self.publisher, &items, self.clock.now(), jitter)).await;
        for ((record, item), outcome) in received.into_iter().zip(&items).zip(outcomes) {
            match outcome {
                ItemOutcome::Done => {}
                ItemOutcome::RetryAfter(delay) => {
                    if let Some(receipt) = record.receipt_handle.as_deref() {
                        if let Err(error) = self.queue.redeliver_after(receipt, delay).await {
                            tracing::warn!(%error, "could not delay the retry; the queue's visibility timeout applies");
                        }
                    }
                    tracing::info!(event_id = %item.event.event_id, delay_s = delay.as_secs(), "deliveries failed; retry scheduled");
                    fail(&mut response, record);
                }
                ItemOutcome::Failed => fail(&mut response, record),
            }
        }
        tracing::info!(
            messages = event.records.len(),
            delivered = counts.delivered,
            failed = counts.failed,
            rejected = counts.rejected,
            retried = response.batch_item_failures.len(),
            "dispatched"
        );
        (response, counts)
    }
}

/// The event a message names, and its receive count.
fn parse(record: &SqsMessage) -> Option<DispatchItem> {
    let event: EventRef = serde_json::from_str(record.body.as_deref()?).ok()?;
    let receive_count = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    Some(DispatchItem { event, receive_count })
}

/// Reports a message failed. A record without a message id cannot be named, and an empty identifier
/// would fail the whole batch; such a record is left to the visibility timeout.
fn fail(response: &mut SqsBatchResponse, record: &SqsMessage) {
    if let Some(id) = record.message_id.as_deref().filter(|id| !id.is_empty()) {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id.to_owned();
        response.batch_item_failures.push(failure);
    }
}
