//! The delivery side of a fixture: the subscriptions endpoint, the dispatch function fed from the fixture's
//! dispatch queue the way Lambda's event source mapping feeds it, subscriber queues, and a webhook receiver.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use collector_aws::dynamo::DynamoTable;
use collector_aws::kms::KmsSecretBox;
use collector_aws::publisher::AwsPublisher;
use collector_aws::sqs::SqsDispatchQueue;
use collector_core::service::dispatch::DispatchCounts;
use integration_tests::{apigw_request, read_response, repo_root};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::support::{assert_granted, create_queue, hex_id, Fixture};
use crate::wiring::{dispatcher, env_of, Dispatcher, Scheduler};

/// One scheduler tick, failing unless `template.yaml` grants the scheduler every AWS action it took.
pub async fn checked_tick(f: &Fixture, scheduler: &Scheduler) -> scheduler::Tick {
    f.clients.log.take_iam_actions();
    let tick = scheduler.handle().await.expect("a tick");
    assert_granted(f, "SchedulerFunction", "a scheduler tick");
    tick
}

pub struct Pipeline<'a> {
    pub f: &'a Fixture,
    pub subscriptions: subscriptions::Handler<DynamoTable, KmsSecretBox, SqsDispatchQueue, AwsPublisher>,
    pub dispatcher: Dispatcher,
}

impl<'a> Pipeline<'a> {
    pub fn new(f: &'a Fixture) -> Self {
        Self::with_key_store(f, f.table.clone())
    }

    pub fn with_key_store(f: &'a Fixture, store: DynamoTable) -> Self {
        let config =
            subscriptions::wiring::Config::from_env(&env_of(f, "SubscriptionsFunction", &[])).expect("its environment");
        let mut deps = subscriptions::wiring::build(&f.clients.config, &config);
        deps.store = store;
        deps.clock = Box::new(f.clock.clone());
        let subscriptions = subscriptions::Handler::from(deps);
        Self {
            f,
            subscriptions,
            dispatcher: dispatcher(f),
        }
    }

    /// A request to the subscriptions endpoint with the fixture's key and extra headers.
    pub async fn api_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        read_response(self.api_response(method, path, body, extra).await)
    }

    /// The subscriptions function's whole response, headers included.
    pub async fn api_response(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> lambda_http::Response<lambda_http::Body> {
        let auth = self.f.bearer();
        let mut headers = vec![("authorization", auth.as_str()), ("content-type", "application/json")];
        headers.extend_from_slice(extra);
        let body = body.map(Value::to_string);
        self.f.clients.log.take_iam_actions();
        let response = self
            .subscriptions
            .handle(apigw_request(method, path, &headers, body.as_deref()))
            .await;
        assert_granted(self.f, "SubscriptionsFunction", "a subscriptions request");
        response
    }

    /// A page of a listing that answers a plain array, and the path of the next page its `Link` header
    /// names (`rel="next"`), if any.
    pub async fn api_page(&self, path: &str) -> (u16, Value, Option<String>) {
        let response = self.api_response("GET", path, None, &[]).await;
        let next = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_suffix(">; rel=\"next\""))
            .and_then(|v| v.strip_prefix('<'))
            .map(str::to_owned);
        let (status, body) = read_response(response);
        (status, body, next)
    }

    pub async fn api(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.api_with(method, path, body, &[]).await
    }

    /// Creates a subscription; panics unless 201. Returns the response body.
    pub async fn subscribe(&self, body: Value) -> Value {
        let (status, created) = self.api("POST", "/api/v1/event-subscription", Some(&body)).await;
        assert_eq!(status, 201, "{created}");
        created
    }

    /// A new subscriber queue and a subscription delivering `entity`/`eventNames` to it.
    pub async fn sqs_subscriber(&self, subscription: Value) -> String {
        let url = create_queue(&self.f.clients, &format!("subscriber-{}", hex_id())).await;
        let mut body = subscription;
        body["destination"] = json!({"type": "SQS", "sqs": {"queueUrl": url, "region": "us-east-1"}});
        self.subscribe(body).await;
        url
    }

    /// A new SNS topic and a subscription delivering `subscription`'s events to it; the topic's ARN.
    pub async fn sns_subscriber(&self, subscription: Value) -> String {
        let topic = self
            .f
            .clients
            .sns
            .create_topic()
            .name(format!("t-{}", hex_id()))
            .send()
            .await;
        let topic_arn = topic.expect("a topic").topic_arn.expect("its ARN");
        let mut body = subscription;
        body["destination"] = json!({"type": "SNS", "sns": {"topicArn": topic_arn}});
        self.subscribe(body).await;
        topic_arn
    }

    /// A local webhook receiver and a subscription of `event_names` delivering to it (the create response).
    pub async fn webhook_subscriber(&self, event_names: Value) -> (WebhookReceiver, Value) {
        let receiver = WebhookReceiver::start().await;
        let destination = json!({"type": "WEBHOOK", "webhook": {"url": receiver.url}});
        let created = self
            .subscribe(json!({"eventNames": event_names, "destination": destination}))
            .await;
        (receiver, created)
    }

    /// One batch as the event source mapping delivers it: up to 10 visible messages of the dispatch queue.
    /// `None` when none is visible.
    pub async fn receive_batch(&self) -> Option<(SqsEvent, Vec<String>)> {
        self.receive_up_to(10).await
    }

    /// Like the event source mapping with a batching window: up to `max` visible messages in one event.
    pub async fn receive_up_to(&self, max: usize) -> Option<(SqsEvent, Vec<String>)> {
        let mut messages = Vec::new();
        while messages.len() < max {
            let received = self
                .f
                .clients
                .sqs
                .receive_message()
                .queue_url(&self.f.dispatch_queue_url)
                .max_number_of_messages((max - messages.len()).min(10) as i32)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive from the dispatch queue");
            let got = received.messages.unwrap_or_default();
            if got.is_empty() {
                break;
            }
            messages.extend(got);
        }
        if messages.is_empty() {
            return None;
        }
        let receipts = messages
            .iter()
            .map(|m| m.receipt_handle().unwrap_or_default().to_owned())
            .collect();
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, Value> = m
                    .attributes()
                    .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), json!(v))).collect())
                    .unwrap_or_default();
                let message_attributes: serde_json::Map<String, Value> = m
                    .message_attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| {
                                let value = json!({"stringValue": v.string_value(), "dataType": v.data_type(),
                                                   "stringListValues": [], "binaryListValues": []});
                                (k.clone(), value)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": message_attributes,
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:dispatch",
                    "awsRegion": "us-east-1"
                })
            })
            .collect();
        let event = serde_json::from_value(json!({ "Records": records })).expect("a valid SQS event");
        Some((event, receipts))
    }

    /// Hands `event` to dispatch, then does what the event source mapping does with the answer: deletes
    /// the messages not reported failed.
    pub async fn deliver_batch(&self, event: SqsEvent, receipts: &[String]) -> (SqsBatchResponse, DispatchCounts) {
        let ids: Vec<String> = event
            .records
            .iter()
            .map(|r| r.message_id.clone().unwrap_or_default())
            .collect();
        self.f.clients.log.take_iam_actions();
        let (response, counts) = self
            .dispatcher
            .handle_counted(event, "it-request")
            .await
            .expect("every record has a messageId");
        assert_granted(self.f, "DispatchFunction", "a dispatch batch");
        for (id, receipt) in ids.iter().zip(receipts) {
            if !response.batch_item_failures.iter().any(|f| &f.item_identifier == id) {
                self.f
                    .clients
                    .sqs
                    .delete_message()
                    .queue_url(&self.f.dispatch_queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .expect("delete a dispatched message");
            }
        }
        (response, counts)
    }

    /// Runs dispatch until the dispatch queue has no visible message. Returns what was delivered.
    pub async fn drain(&self) -> DispatchCounts {
        let mut total = DispatchCounts::default();
        while let Some((event, receipts)) = self.receive_batch().await {
            let (_, counts) = self.deliver_batch(event, &receipts).await;
            total.delivered += counts.delivered;
            total.failed += counts.failed;
            total.rejected += counts.rejected;
        }
        total
    }

    /// Every message now in a subscriber queue (received and deleted), bodies parsed, with their attributes.
    pub async fn received(&self, queue_url: &str) -> Vec<(Value, Vec<(String, String)>)> {
        let mut all = Vec::new();
        loop {
            let page = self
                .f
                .clients
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive from a subscriber queue");
            if page.messages().is_empty() {
                return all;
            }
            for m in page.messages() {
                let mut attributes: Vec<(String, String)> = m
                    .message_attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                attributes.sort();
                all.push((serde_json::from_str(m.body().unwrap_or("null")).unwrap(), attributes));
                self.f
                    .clients
                    .sqs
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// A request a webhook receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP/1.1 receiver on a free loopback port that records requests and answers `status`.
pub struct WebhookReceiver {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Received>>>,
    pub status: Arc<AtomicU16>,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/collector", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (seen, answer) = (requests.clone(), status.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, answer) = (seen.clone(), answer.clone());
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    while let Some(request) = read_request(&mut stream).await {
                        seen.lock().unwrap().push(request);
                        let code = answer.load(Ordering::SeqCst);
                        let reply = format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\n\r\n");
                        if stream.get_mut().write_all(reply.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self { url, requests, status }
    }

    /// Where the receiver listens, without the path: the base URL of an API it stands in for.
    pub fn base(&self) -> String {
        self.url.trim_end_matches("/hooks/collector").to_owned()
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

async fn read_request(stream: &mut BufReader<tokio::net::TcpStream>) -> Option<Received> {
    let (_, _, headers, body) = read_http_request(stream).await?;
    Some(Received {
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

/// One HTTP/1.1 request off the wire: method, target (path and query), headers (names lower-case), body.
pub async fn read_http_request(
    stream: &mut BufReader<tokio::net::TcpStream>,
) -> Option<(String, String, Vec<(String, String)>, Vec<u8>)> {
    let mut line = String::new();
    stream.read_line(&mut line).await.ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).await.ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some((method, target, headers, body))
}

/// Verifies a received webhook with the reference Standard Webhooks library (Python, from PyPI): an
/// implementation that shares no code with ours.
pub fn verify_with_reference_library(secret: &str, request: &Received) -> Result<(), String> {
    let python = std::env::var_os("VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"))
        .join("bin/python");
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
secret, headers = sys.argv[1], json.loads(sys.argv[2])
Webhook(secret).verify(sys.stdin.buffer.read(), headers)
"#;
    let headers: serde_json::Map<String, Value> = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .map(|h| (h.to_string(), json!(request.header(h).unwrap_or_default())))
        .collect();
    let mut child = std::process::Command::new(python)
        .args(["-c", script, secret, &Value::Object(headers).to_string()])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    use std::io::Write;
    child.stdin.take().unwrap().write_all(request.body.as_bytes()).unwrap();
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
