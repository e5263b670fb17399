//! The dispatch function: an SQS batch of stored-event references in, per-message failures out
//! (`ReportBatchItemFailures`). A message that cannot be read fails alone; a message whose deliveries failed
//! transiently comes back after the retry schedule's delay.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::time::Instant;

use shared::domain::event::EventRef;
use shared::domain::trace::{TraceContext, TRACEPARENT};
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
    /// Handles one batch (the invocation `request_id`, for the log); never fails as a whole.
    pub async fn handle(&self, event: SqsEvent, request_id: &str) -> SqsBatchResponse {
        self.handle_counted(event, request_id).await.0
    }

    /// [`Handler::handle`], with what was delivered. Writes one log line per message: the invocation's
    /// request id, the trace the message carried, store, event, outcome and the batch's duration (a batch is
    /// dispatched in a fixed number of round trips, so its messages finish together).
    pub async fn handle_counted(&self, event: SqsEvent, request_id: &str) -> (SqsBatchResponse, DispatchCounts) {
        let started = Instant::now();
        let mut response = SqsBatchResponse::default();
        let mut items = Vec::new();
        let mut received: Vec<&SqsMessage> = Vec::new();
        let mut unreadable: Vec<&SqsMessage> = Vec::new();
        for record in &event.records {
            match parse(record) {
                Some(item) => {
                    items.push(item);
                    received.push(record);
                }
                None => {
                    fail(&mut response, record);
                    unreadable.push(record);
                }
            }
        }
        let jitter = f64::from(RandomIds.secret()[0]) / 256.0;
        // Boxed: a batch's state machine is large; the runtime's stack need not carry it.
        let (outcomes, counts) =
            Box::pin(dispatch(&self.store, &self.publisher, &items, self.clock.now(), jitter)).await;
        let mut lines = Vec::with_capacity(items.len());
        for ((record, item), outcome) in received.into_iter().zip(&items).zip(outcomes) {
            let (label, delay) = match outcome {
                ItemOutcome::Done => ("done", None),
                ItemOutcome::RetryAfter(delay) => {
                    if let Some(receipt) = record.receipt_handle.as_deref() {
                        if let Err(error) = self.queue.redeliver_after(receipt, delay).await {
                            tracing::warn!(%error, "could not delay the retry; the queue's visibility timeout applies");
                        }
                    }
                    fail(&mut response, record);
                    ("retry", Some(delay.as_secs()))
                }
                ItemOutcome::Failed => {
                    fail(&mut response, record);
                    ("failed", None)
                }
            };
            lines.push((record, Some(item), label, delay));
        }
        lines.extend(unreadable.into_iter().map(|record| (record, None, "unreadable", None)));
        let duration_us = started.elapsed().as_micros() as u64;
        for (record, item, outcome, retry_in_s) in lines {
            tracing::info!(
                request_id,
                message_id = record.message_id.as_deref().unwrap_or("-"),
                trace_id = item
                    .and_then(|i| i.trace)
                    .map(|t| t.trace_id())
                    .as_deref()
                    .unwrap_or("-"),
                store_id = item.map(|i| i.event.store_id.as_str()).unwrap_or("-"),
                event_id = item.map(|i| i.event.event_id.as_str()).unwrap_or("-"),
                receive_count = item.map(|i| i.receive_count),
                outcome,
                retry_in_s,
                duration_us,
            );
        }
        tracing::debug!(
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

/// The event a message names, its receive count, and this function's hop of the trace the message carried.
fn parse(record: &SqsMessage) -> Option<DispatchItem> {
    let event: EventRef = serde_json::from_str(record.body.as_deref()?).ok()?;
    let receive_count = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let trace = record
        .message_attributes
        .get(TRACEPARENT)
        .and_then(|attribute| attribute.string_value.as_deref())
        .and_then(TraceContext::parse)
        .map(|parent| parent.child(RandomIds.secret()));
    Some(DispatchItem {
        event,
        receive_count,
        trace,
    })
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
