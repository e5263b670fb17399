//! Injected AWS failures: what the fault-injection harness turns on in the HTTP client under the SDK, so
//! every AWS call of every handler built from those clients can fail the way AWS fails: at random
//! ([`Faults::start`]), or at one chosen request ([`Faults::arm`]), which is how the durability and recovery
//! tests put a crash at a step boundary of the real handlers and adapters, against the local AWS.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorFuture, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

/// One way a request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Answered with the service's throttling error; nothing happened.
    Throttled,
    /// Answered 500; nothing happened.
    ServerError,
    /// Timed out before it reached the service; nothing happened.
    TimedOut,
    /// Reached the service and took effect, then the connection dropped: the caller cannot tell.
    AnswerLost,
    /// A batch call answered with every item left unprocessed (`UnprocessedKeys`, `UnprocessedItems`), as
    /// DynamoDB answers when the items' partitions are throttled (armed only).
    Unprocessed,
    /// A transaction cancelled as DynamoDB cancels one whose partition was throttled: a
    /// `TransactionCanceledException` whose reasons say `ThrottlingError` for the first item (armed only).
    TransactionThrottled,
    /// Answered that the table does not exist: a permanent failure (armed only).
    NoSuchTable,
    /// Never answered, never sent: the invocation dies here when its caller gives up on it (armed only;
    /// [`Faults::hung`] says when one was reached).
    Hang,
}

/// A fault for the next requests that match: the operation's short name (`TransactWriteItems`) and, when
/// set, a text the request body holds (an event's name).
#[derive(Debug)]
struct Armed {
    operation: &'static str,
    body_contains: Option<String>,
    fault: Fault,
    times: usize,
}

const KINDS: [Fault; 4] = [Fault::Throttled, Fault::ServerError, Fault::TimedOut, Fault::AnswerLost];

/// Off until [`Faults::start`]; then each request fails with probability `per_mille / 1000`, the kind drawn
/// uniformly. Deterministic in the draw sequence for a seed (concurrency still orders requests freely).
#[derive(Debug, Default)]
pub struct Faults {
    per_mille: AtomicU32,
    state: Mutex<u64>,
    injected: Mutex<BTreeMap<String, usize>>,
    armed: Mutex<Vec<Armed>>,
    hung: tokio::sync::Notify,
    buckets: Mutex<Option<std::sync::Arc<crate::PartitionBuckets>>>,
}

impl Faults {
    pub fn start(&self, per_mille: u32, seed: u64) {
        *self.state.lock().unwrap() = seed | 1;
        self.per_mille.store(per_mille, Ordering::SeqCst);
    }

    pub fn stop(&self) {
        self.per_mille.store(0, Ordering::SeqCst);
    }

    /// The next `times` requests of `operation` (`TransactWriteItems`) whose body contains `body_contains`
    /// (when set) get `fault`, whatever [`Faults::start`] says.
    pub fn arm(&self, operation: &'static str, body_contains: Option<&str>, fault: Fault, times: usize) {
        self.armed.lock().unwrap().push(Armed {
            operation,
            body_contains: body_contains.map(str::to_owned),
            fault,
            times,
        });
    }

    /// From now on, DynamoDB writes are throttled per partition by `buckets` (see [`crate::PartitionBuckets`]).
    pub fn throttle_partitions(&self, buckets: std::sync::Arc<crate::PartitionBuckets>) {
        *self.buckets.lock().unwrap() = Some(buckets);
    }

    /// The buckets' answer to a DynamoDB request, when they refuse it; `writes` says what it would write.
    pub(crate) fn throttled(
        &self,
        operation: &str,
        request: &[u8],
        writes: impl FnOnce() -> Vec<(String, f64)>,
    ) -> Option<Response<SdkBody>> {
        let buckets = self.buckets.lock().unwrap().clone()?;
        buckets.refuse(operation, request, &writes())
    }

    /// Forgets every armed fault not yet reached.
    pub fn disarm(&self) {
        self.armed.lock().unwrap().clear();
    }

    /// Resolves when a request reaches an armed [`Fault::Hang`].
    pub async fn hung(&self) {
        self.hung.notified().await;
    }

    fn armed_for(&self, operation: &str, request: &HttpRequest) -> Option<Fault> {
        let short = operation.rsplit('.').next().unwrap_or(operation);
        let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default());
        let mut armed = self.armed.lock().unwrap();
        let rule = armed.iter_mut().find(|rule| {
            rule.times > 0 && rule.operation == short && rule.body_contains.as_ref().is_none_or(|t| body.contains(t))
        })?;
        rule.times -= 1;
        Some(rule.fault)
    }

    /// Faults injected so far, by `"<Operation> <Fault>"`.
    pub fn injected(&self) -> BTreeMap<String, usize> {
        self.injected.lock().unwrap().clone()
    }

    pub fn total(&self) -> usize {
        self.injected.lock().unwrap().values().sum()
    }

    fn draw(&self) -> Option<Fault> {
        let per_mille = self.per_mille.load(Ordering::SeqCst);
        if per_mille == 0 {
            return None;
        }
        let mut state = self.state.lock().unwrap();
        let mut next = || {
            // xorshift64: no dependency, reproducible from the seed.
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *state
        };
        if next() % 1000 >= u64::from(per_mille) {
            return None;
        }
        Some(KINDS[(next() % KINDS.len() as u64) as usize])
    }

    /// `request` as sent through `inner`, unless a fault is drawn for it.
    pub(crate) fn call(
        &self,
        operation: &str,
        inner: &SharedHttpConnector,
        request: HttpRequest,
    ) -> HttpConnectorFuture {
        let Some(fault) = self.armed_for(operation, &request).or_else(|| self.draw()) else {
            return inner.call(request);
        };
        let service = operation.split('.').next().unwrap_or_default().to_owned();
        *self
            .injected
            .lock()
            .unwrap()
            .entry(format!(
                "{} {fault:?}",
                operation.rsplit('.').next().unwrap_or(operation)
            ))
            .or_default() += 1;
        let json = request.headers().get("x-amz-target").is_some();
        match fault {
            Fault::Throttled => HttpConnectorFuture::ready(Ok(error_response(400, json, &service, "Throttling"))),
            Fault::ServerError => {
                HttpConnectorFuture::ready(Ok(error_response(500, json, &service, "InternalFailure")))
            }
            Fault::TimedOut => HttpConnectorFuture::ready(Err(ConnectorError::timeout("injected: timed out".into()))),
            Fault::AnswerLost => {
                let sent = inner.call(request);
                HttpConnectorFuture::new(async move {
                    let _ = sent.await;
                    Err(ConnectorError::io(
                        "injected: connection reset after the request was sent".into(),
                    ))
                })
            }
            Fault::Unprocessed => {
                HttpConnectorFuture::ready(Ok(unprocessed(request.body().bytes().unwrap_or_default())))
            }
            Fault::TransactionThrottled => {
                HttpConnectorFuture::ready(Ok(throttled_transaction(request.body().bytes().unwrap_or_default())))
            }
            Fault::NoSuchTable => {
                HttpConnectorFuture::ready(Ok(error_response(400, json, &service, "ResourceNotFoundException")))
            }
            Fault::Hang => {
                self.hung.notify_one();
                HttpConnectorFuture::new(std::future::pending())
            }
        }
    }
}

/// The error an AWS service answers, in its protocol: JSON (`__type`) where the request named an
/// `X-Amz-Target`, else the query protocol's XML. DynamoDB names throttling `ThrottlingException`.
/// A batch call's answer that processed nothing: the request's items, handed back.
pub(crate) fn unprocessed(request: &[u8]) -> Response<SdkBody> {
    let body: serde_json::Value = serde_json::from_slice(request).unwrap_or_default();
    let items = &body["RequestItems"];
    let is_read = items
        .as_object()
        .and_then(|tables| tables.values().next())
        .is_some_and(|spec| spec.get("Keys").is_some());
    let answer = if is_read {
        serde_json::json!({"Responses": {}, "UnprocessedKeys": items})
    } else {
        serde_json::json!({"UnprocessedItems": items})
    };
    let mut response = Response::new(
        StatusCode::try_from(200).expect("a status"),
        SdkBody::from(answer.to_string()),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

/// DynamoDB's answer to a transaction cancelled because its first item's partition was throttled: one reason
/// per item, in order.
pub(crate) fn throttled_transaction(request: &[u8]) -> Response<SdkBody> {
    let items = serde_json::from_slice::<serde_json::Value>(request)
        .ok()
        .and_then(|body| body["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(1);
    let mut reasons = vec![serde_json::json!({"Code": "ThrottlingError",
        "Message": "Throughput exceeds the current capacity of your table or index."})];
    reasons.resize(items.max(1), serde_json::json!({"Code": "None"}));
    let names: Vec<&str> = reasons.iter().map(|r| r["Code"].as_str().unwrap_or_default()).collect();
    let body = serde_json::json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", names.join(", ")),
        "CancellationReasons": reasons,
    });
    let mut response = Response::new(
        StatusCode::try_from(400).expect("a status"),
        SdkBody::from(body.to_string()),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

pub(crate) fn error_response(status: u16, json: bool, service: &str, code: &str) -> Response<SdkBody> {
    let code = match (code, service.starts_with("DynamoDB")) {
        ("Throttling", true) => "ThrottlingException",
        _ => code,
    };
    let (content_type, body) = if json {
        (
            "application/x-amz-json-1.0",
            format!(r#"{{"__type":"{code}","message":"injected"}}"#),
        )
    } else {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>\
                 <RequestId>injected</RequestId></ErrorResponse>"
            ),
        )
    };
    let mut response = Response::new(StatusCode::try_from(status).expect("a status"), SdkBody::from(body));
    response.headers_mut().insert("content-type", content_type);
    response
}
