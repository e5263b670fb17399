//! SDK clients against the local AWS that log every request they make: by operation, by the IAM action it
//! needs, and (DynamoDB) by the partitions it touches; and fail requests as the fault harness says.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use serde_json::Value;

use crate::faults::Faults;
use crate::{heat, local_aws, template};

/// AWS requests made through clients built from [`Clients::config`], by operation: the `X-Amz-Target` of JSON
/// protocols (`DynamoDB_20120810.GetItem`) or the `Action` of query protocols (SNS, STS).
/// Alongside, the IAM actions each request needed ([`RequestLog::take_iam_actions`]), and the partitions
/// each DynamoDB request touched ([`RequestLog::take_touches`]).
#[derive(Debug, Clone)]
pub struct RequestLog(Arc<Mutex<Vec<String>>>, Arc<Mutex<Vec<String>>>, Arc<heat::Recorder>);

impl Default for RequestLog {
    fn default() -> Self {
        let schema = heat::Schema::from_template(template());
        Self(
            Default::default(),
            Default::default(),
            Arc::new(heat::Recorder::new(schema)),
        )
    }
}

impl RequestLog {
    /// The partitions the DynamoDB requests since the last call touched. Panics naming every request the
    /// recorder could not interpret: the heat model must describe what the code really does.
    pub fn take_touches(&self) -> Vec<heat::Touch> {
        self.2
            .take()
            .unwrap_or_else(|errors| panic!("requests the heat recorder cannot interpret:\n{}", errors.join("\n")))
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// The IAM actions the requests since the last call needed, as a policy names them: a batch or a
    /// transaction by its items' actions (`sqs:SendMessage`, `dynamodb:ConditionCheckItem`), a query of an
    /// index as `dynamodb:Query index/<name>`.
    pub fn take_iam_actions(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.1.lock().unwrap()).into_iter().collect()
    }

    /// Operations only (`GetItem`, `Publish`), in order.
    pub fn take_operations(&self) -> Vec<String> {
        self.take()
            .into_iter()
            .map(|target| target.rsplit('.').next().unwrap_or_default().to_owned())
            .collect()
    }

    /// How many times each operation was called since the last take.
    pub fn take_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for operation in self.take_operations() {
            *counts.entry(operation).or_insert(0) += 1;
        }
        counts
    }

    /// Logs the request's operation and returns it.
    fn record(&self, request: &HttpRequest) -> String {
        let operation = match request.headers().get("x-amz-target") {
            Some(target) if target.ends_with("UpdateItem") && is_rate_window(request) => RATE_LIMIT.to_owned(),
            Some(target) => target.to_owned(),
            None => {
                let body = request.body().bytes().unwrap_or_default();
                let body = String::from_utf8_lossy(body);
                let action = body
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("Action="))
                    .unwrap_or("unknown");
                action.to_owned()
            }
        };
        self.0.lock().unwrap().push(operation.clone());
        let body = request.body().bytes().unwrap_or_default();
        let target = request.headers().get("x-amz-target").unwrap_or(operation.as_str());
        self.1.lock().unwrap().extend(iam_actions(target, body));
        operation
    }
}

/// The IAM actions a request with this `X-Amz-Target` (or query `Action`) and body needs.
fn iam_actions(target: &str, body: &[u8]) -> Vec<String> {
    let (service, operation) = target.rsplit_once('.').unwrap_or(("", target));
    let json = || serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    match service {
        "DynamoDB_20120810" => match operation {
            "TransactWriteItems" => json()["TransactItems"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| item.as_object()?.keys().next().cloned())
                .map(|kind| match kind.as_str() {
                    "ConditionCheck" => "dynamodb:ConditionCheckItem".to_owned(),
                    other => format!("dynamodb:{other}Item"),
                })
                .collect(),
            "TransactGetItems" => vec!["dynamodb:GetItem".to_owned()],
            "Query" | "Scan" => match json()["IndexName"].as_str() {
                Some(index) => vec![format!("dynamodb:{operation} index/{index}")],
                None => vec![format!("dynamodb:{operation}")],
            },
            _ => vec![format!("dynamodb:{operation}")],
        },
        "AmazonSQS" => vec![format!("sqs:{}", operation.trim_end_matches("Batch"))],
        "TrentService" => vec![format!("kms:{operation}")],
        _ => match operation {
            "Publish" | "PublishBatch" => vec!["sns:Publish".to_owned()],
            "AssumeRole" => vec!["sts:AssumeRole".to_owned()],
            other => vec![format!("unknown:{other}")],
        },
    }
}

/// How [`RequestLog`] names the rate limiter's counter updates, so figures can show them apart.
pub const RATE_LIMIT: &str = "RateLimit";

fn is_rate_window(request: &HttpRequest) -> bool {
    let body = request.body().bytes().unwrap_or_default();
    String::from_utf8_lossy(body).contains("#RATE#")
}

/// An HTTP client that logs each request, then sends it with the SDK's own client (or fails it, when
/// faults are on).
#[derive(Debug, Clone)]
struct CountingClient {
    inner: SharedHttpClient,
    log: RequestLog,
    faults: Arc<Faults>,
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
    log: RequestLog,
    faults: Arc<Faults>,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = self.log.record(&request);
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let Some(dynamodb) = target.strip_prefix("DynamoDB_20120810.").map(str::to_owned) else {
            return self.faults.call(&operation, &self.inner, request);
        };
        let body = request.body().bytes().unwrap_or_default().to_vec();
        let recorder = self.log.2.clone();
        if let Some(refused) = self
            .faults
            .throttled(&dynamodb, &body, || recorder.peek_writes(&dynamodb, &body))
        {
            return HttpConnectorFuture::ready(Ok(refused));
        }
        let answer = self.faults.call(&operation, &self.inner, request);
        let recorder = self.log.2.clone();
        // The answer is read whole (reads are billed by what they return), then handed on unchanged.
        HttpConnectorFuture::new(async move {
            let mut response = answer.await?;
            let bytes = aws_smithy_types::byte_stream::ByteStream::new(response.take_body())
                .collect()
                .await
                .map_err(|e| aws_smithy_runtime_api::client::result::ConnectorError::io(e.into()))?
                .into_bytes();
            recorder.observe(&dynamodb, &body, response.status().is_success(), &bytes);
            *response.body_mut() = aws_smithy_types::body::SdkBody::from(bytes);
            Ok(response)
        })
    }
}

impl HttpClient for CountingClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(CountingConnector {
            inner: self.inner.http_connector(settings, components),
            log: self.log.clone(),
            faults: self.faults.clone(),
        })
    }
}

/// SDK clients against the local AWS. Every client built from `config` (these, and the ones the dispatch
/// publisher builds per destination) counts its requests into `log`, and fails them as `faults` says (off
/// unless a test starts them).
pub struct Clients {
    pub config: SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub kms: aws_sdk_kms::Client,
    pub log: RequestLog,
    pub faults: Arc<Faults>,
}

impl Clients {
    pub async fn new() -> Self {
        Self::with_retries(aws_config::retry::RetryConfig::standard()).await
    }

    /// Clients that make a single attempt per call: every fault injected reaches the caller's code.
    pub async fn without_sdk_retries() -> Self {
        Self::with_retries(aws_config::retry::RetryConfig::disabled()).await
    }

    async fn with_retries(retry: aws_config::retry::RetryConfig) -> Self {
        let aws = local_aws();
        let config: SdkConfig = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .endpoint_url(&aws.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .load()
            .await;
        let log = RequestLog::default();
        let faults = Arc::new(Faults::default());
        let counting = CountingClient {
            // moto speaks plain HTTP on loopback.
            inner: aws_smithy_http_client::Builder::new().build_http(),
            log: log.clone(),
            faults: faults.clone(),
        };
        let config = config.into_builder().http_client(counting).build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
            config,
            log,
            faults,
        }
    }
}
