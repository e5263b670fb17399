//! The dispatch function: an SQS batch of stored-event references in, per-message failures out
//! (`ReportBatchItemFailures`). A message that cannot be read fails alone; a message whose deliveries failed
//! transiently comes back after the retry schedule's delay. A failed record that has no `messageId` cannot be
//! reported, and an unreported record counts as done: then the whole invocation fails, so SQS hands every
//! message of the batch back (the delivery ledger keeps what was already delivered from going out again).

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::time::Instant;

use collector_core::domain::redelivery::{DispatchMessage, ReplayPage, REDRIVE};
use collector_core::domain::trace::{TraceContext, TRACEPARENT};
use collector_core::ports::{
    Clock, DispatchMessages, DispatchQueue, DispatchStore, EventTimelines, IdGenerator, MessageVisibility, Publisher,
    RandomIds, ReplayStore,
};
use collector_core::service::dispatch::{dispatch, DispatchCounts, DispatchItem, ItemOutcome};
use collector_core::service::redelivery::replay_page;

pub mod wiring;

/// What dispatch needs, built once per cold start.
pub struct Deps<S, P, Q> {
    pub store: S,
    pub publisher: P,
    /// The dispatch queue, to delay the redelivery of messages with failed deliveries.
    pub queue: Q,
    pub clock: Box<dyn Clock>,
}

/// The function over its dependencies.
pub struct Handler<S, P, Q>(Deps<S, P, Q>);

impl<S, P, Q> From<Deps<S, P, Q>> for Handler<S, P, Q> {
    fn from(deps: Deps<S, P, Q>) -> Self {
        Self(deps)
    }
}

impl<S, P, Q> Handler<S, P, Q>
where
    S: DispatchStore + ReplayStore + EventTimelines + Sync,
    P: Publisher + Sync,
    Q: MessageVisibility + DispatchMessages + DispatchQueue + Sync,
{
    /// Handles one batch (the invocation `request_id`, for the log); fails as a whole only when a failed
    /// record cannot be named.
    pub async fn handle(&self, event: SqsEvent, request_id: &str) -> Result<SqsBatchResponse, UnnamedFailures> {
        self.handle_counted(event, request_id)
            .await
            .map(|(response, _)| response)
    }

    /// [`Handler::handle`], with what was delivered. Writes one log line per message: the invocation's
    /// request id, the trace the message carried, store, event, outcome and the batch's duration (a batch is
    /// dispatched in a fixed number of round trips, so its messages finish together).
    pub async fn handle_counted(
        &self,
        event: SqsEvent,
        request_id: &str,
    ) -> Result<(SqsBatchResponse, DispatchCounts), UnnamedFailures> {
        let started = Instant::now();
        let mut response = Failures::default();
        let mut items = Vec::new();
        let mut received: Vec<&SqsMessage> = Vec::new();
        let mut unreadable: Vec<&SqsMessage> = Vec::new();
        let mut pages: Vec<(&SqsMessage, ReplayPage)> = Vec::new();
        for record in &event.records {
            match parse(record) {
                Some(Parsed::Item(item)) => {
                    items.push(item);
                    received.push(record);
                }
                Some(Parsed::Page(page)) => pages.push((record, page)),
                None => {
                    fail(&mut response, record);
                    unreadable.push(record);
                }
            }
        }
        // A replay's page queues its events for the next batches; one that fails comes back to be tried again.
        for (record, page) in pages {
            if let Err(error) = replay_page(&self.0.store, &self.0.queue, &page, self.0.clock.now()).await {
                tracing::warn!(%error, replay_id = page.replay_id, "a replay page failed; it comes back");
                fail(&mut response, record);
            }
        }
        let jitter = f64::from(RandomIds.secret()[0]) / 256.0;
        // Boxed: a batch's state machine is large; the runtime's stack need not carry it.
        let (outcomes, counts) = Box::pin(dispatch(
            &self.0.store,
            &self.0.publisher,
            &items,
            self.0.clock.now(),
            jitter,
        ))
        .await;
        // The news this batch made (a subscription deactivated, a message exhausted), for its subscribers; an
        // enqueue that fails leaves them pending for the sweep.
        if !counts.announced.is_empty() {
            if let Err(error) = self.0.queue.enqueue_many(&counts.announced, None).await {
                tracing::warn!(%error, "enqueueing operational news failed; the sweep sends it");
            }
        }
        let mut lines = Vec::with_capacity(items.len());
        for ((record, item), outcome) in received.into_iter().zip(&items).zip(outcomes) {
            let (label, delay) = match outcome {
                ItemOutcome::Done => ("done", None),
                ItemOutcome::RetryAfter(delay) => {
                    if let Some(receipt) = record.receipt_handle.as_deref() {
                        if let Err(error) = self.0.queue.redeliver_after(receipt, delay).await {
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
            retried = response.named.batch_item_failures.len(),
            "dispatched"
        );
        match response.unnamed {
            0 => Ok((response.named, counts)),
            unnamed => {
                tracing::error!(unnamed, "failed records without a messageId: the whole batch fails");
                Err(UnnamedFailures(unnamed))
            }
        }
    }
}

/// Records that failed without a `messageId` to report them by.
#[derive(Debug, PartialEq, Eq)]
pub struct UnnamedFailures(pub usize);

impl std::fmt::Display for UnnamedFailures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} failed record(s) without a messageId; the batch fails so SQS redelivers it",
            self.0
        )
    }
}

impl std::error::Error for UnnamedFailures {}

/// What the Lambda runtime reports of the failed invocation (`errorType`, `errorMessage`).
impl From<UnnamedFailures> for lambda_runtime::Diagnostic {
    fn from(failures: UnnamedFailures) -> Self {
        Self {
            error_type: "UnnamedFailures".to_owned(),
            error_message: failures.to_string(),
        }
    }
}

/// The failures of a batch: those SQS can be told of, and how many it cannot.
#[derive(Default)]
struct Failures {
    named: SqsBatchResponse,
    unnamed: usize,
}

/// What a message asks for.
enum Parsed {
    Item(DispatchItem),
    Page(ReplayPage),
}

/// The event a message names (with the subscription it is aimed at, if any), its receive count, and this
/// function's hop of the trace the message carried; or a replay's page.
fn parse(record: &SqsMessage) -> Option<Parsed> {
    let (event, target) = match serde_json::from_str(record.body.as_deref()?).ok()? {
        DispatchMessage::Event(event) => (event, None),
        DispatchMessage::Aimed { event, target } => (event, Some(target)),
        DispatchMessage::ReplayPage(page) => return Some(Parsed::Page(page)),
    };
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
    let redrive = record
        .message_attributes
        .get(REDRIVE)
        .and_then(|attribute| attribute.string_value.as_deref())
        == Some("true");
    Some(Parsed::Item(DispatchItem {
        event,
        receive_count,
        trace,
        target,
        redrive,
    }))
}

/// Reports a message failed, by its id; a record without one (an empty identifier is as bad) is counted.
fn fail(response: &mut Failures, record: &SqsMessage) {
    match record.message_id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id.to_owned();
            response.named.batch_item_failures.push(failure);
        }
        None => response.unnamed += 1,
    }
}
