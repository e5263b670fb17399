//! The [`Publisher`]: deliveries grouped by destination, sent as `SendMessageBatch` / `PublishBatch` of up
//! to 10 entries (and 256 KiB), or as signed webhook requests, with SDK clients per region and credentials
//! kept for the life of the function.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use aws_config::SdkConfig;
use aws_sdk_sns::types::{MessageAttributeValue as SnsAttribute, PublishBatchRequestEntry};
use aws_sdk_sqs::types::{MessageAttributeValue as SqsAttribute, SendMessageBatchRequestEntry};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;
use futures::future::join_all;

use super::batches::batches;
use super::kms::KmsSecretBox;
use super::webhook::WebhookClient;
use collector_core::domain::subscription::{AwsAccess, Destination, Subscription};
use collector_core::domain::trace::TRACEPARENT;
use collector_core::domain::webhook_signature::secret_key;
use collector_core::ports::{Delivery, MessageAttributes, Publisher, SecretBox, SecretContext, SendOutcome};

/// Error codes that no retry will fix: the subscription is deactivated with the code as its reason.
const PERMANENT_CODES: [&str; 14] = [
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NotFound",
    "NotFoundException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "KMS.DisabledException",
    "KmsAccessDenied",
    "KMSAccessDeniedException",
    "EndpointDisabled",
];

const CONCURRENT_SENDS: usize = 16;
/// What a delivery's attributes add to its body in a batch call, at most (the batch's byte limit counts both).
const ATTRIBUTES_BYTES: usize = 256;

fn classify(code: Option<&str>, fallback: &str) -> SendOutcome {
    let code = code.unwrap_or(fallback).to_owned();
    if PERMANENT_CODES.contains(&code.as_str()) {
        SendOutcome::Permanent(code)
    } else {
        SendOutcome::Transient(code)
    }
}

/// Which client a destination needs: region and credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    region: String,
    access: AwsAccess,
}

/// What one batch call goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target {
    Sqs { queue_url: String, client: ClientKey },
    Sns { topic_arn: String, client: ClientKey },
    Webhook,
}

fn target_of(subscription: &Subscription) -> Target {
    match &subscription.destination {
        Destination::Sqs {
            queue_url,
            region,
            access,
        } => Target::Sqs {
            queue_url: queue_url.clone(),
            client: ClientKey {
                region: region.clone(),
                access: access.clone(),
            },
        },
        Destination::Sns {
            topic_arn,
            region,
            access,
        } => Target::Sns {
            topic_arn: topic_arn.clone(),
            client: ClientKey {
                region: region.clone(),
                access: access.clone(),
            },
        },
        Destination::Webhook { .. } => Target::Webhook,
    }
}

fn context_of(subscription: &Subscription) -> SecretContext {
    SecretContext {
        store_id: subscription.store_id.clone(),
        subscription_id: subscription.subscription_id.clone(),
    }
}

pub struct AwsPublisher {
    base: SdkConfig,
    secrets: KmsSecretBox,
    webhooks: WebhookClient,
    clients: Mutex<HashMap<ClientKey, (aws_sdk_sqs::Client, aws_sdk_sns::Client)>>,
}

impl AwsPublisher {
    pub fn new(base: SdkConfig, secrets: KmsSecretBox, webhooks: WebhookClient) -> Self {
        Self {
            base,
            secrets,
            webhooks,
            clients: Mutex::default(),
        }
    }

    /// The clients for a region and credentials; access keys are opened on first use.
    async fn clients(
        &self,
        key: &ClientKey,
        subscription: &Subscription,
    ) -> Result<(aws_sdk_sqs::Client, aws_sdk_sns::Client), SendOutcome> {
        if let Some(found) = self.clients.lock().ok().and_then(|c| c.get(key).cloned()) {
            return Ok(found);
        }
        let region = aws_config::Region::new(key.region.clone());
        let mut config = self.base.to_builder().region(region.clone());
        match &key.access {
            AwsAccess::CollectorRole => {}
            AwsAccess::AssumeRole { role_arn, external_id } => {
                let mut provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                    .session_name("event-collector-dispatch")
                    .region(region)
                    .configure(&self.base);
                if let Some(external_id) = external_id {
                    provider = provider.external_id(external_id);
                }
                config = config.credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
                    provider.build().await,
                ));
            }
            AwsAccess::AccessKey { sealed, .. } => {
                let opened = self
                    .secrets
                    .open(sealed, &context_of(subscription))
                    .await
                    .map_err(|e| SendOutcome::Transient(format!("OpenCredentials: {}", e.kind_label())))?;
                let keys: serde_json::Value = serde_json::from_str(&opened)
                    .map_err(|_| SendOutcome::Permanent("UnreadableCredentials".to_owned()))?;
                let credentials = aws_sdk_sqs::config::Credentials::new(
                    keys["accessKey"].as_str().unwrap_or_default(),
                    keys["accessSecret"].as_str().unwrap_or_default(),
                    None,
                    None,
                    "subscription",
                );
                config = config.credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
                    credentials,
                ));
            }
        }
        let config = config.build();
        let clients = (aws_sdk_sqs::Client::new(&config), aws_sdk_sns::Client::new(&config));
        if let Ok(mut cache) = self.clients.lock() {
            cache.insert(key.clone(), clients.clone());
        }
        Ok(clients)
    }

    async fn send_sqs(
        &self,
        queue_url: &str,
        client: &aws_sdk_sqs::Client,
        batch: &[&Delivery<'_>],
    ) -> Vec<SendOutcome> {
        let entry = |id: String, d: &Delivery<'_>, fifo: Option<(&str, &str)>| {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(id)
                .message_body(d.body)
                .set_message_attributes(Some(sqs_attributes(d.attributes)));
            match fifo {
                Some((group, dedupe)) => entry.message_group_id(group).message_deduplication_id(dedupe),
                None => entry,
            }
            .build()
        };
        send_batch(batch, queue_url.ends_with(".fifo"), entry, |entries| async move {
            match client
                .send_message_batch()
                .queue_url(queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(output) => Ok(failed(output.failed().iter().map(|f| (f.id(), f.code())))),
                Err(error) => Err(classify(error.code(), error_kind(&error))),
            }
        })
        .await
    }

    async fn send_sns(
        &self,
        topic_arn: &str,
        client: &aws_sdk_sns::Client,
        batch: &[&Delivery<'_>],
    ) -> Vec<SendOutcome> {
        let entry = |id: String, d: &Delivery<'_>, fifo: Option<(&str, &str)>| {
            let entry = PublishBatchRequestEntry::builder()
                .id(id)
                .message(d.body)
                .set_message_attributes(Some(sns_attributes(d.attributes)));
            match fifo {
                Some((group, dedupe)) => entry.message_group_id(group).message_deduplication_id(dedupe),
                None => entry,
            }
            .build()
        };
        send_batch(batch, topic_arn.ends_with(".fifo"), entry, |entries| async move {
            let call = client.publish_batch().topic_arn(topic_arn);
            match call.set_publish_batch_request_entries(Some(entries)).send().await {
                Ok(output) => Ok(failed(output.failed().iter().map(|f| (f.id(), f.code())))),
                Err(error) => Err(classify(error.code(), error_kind(&error))),
            }
        })
        .await
    }

    async fn send_webhook(&self, delivery: &Delivery<'_>) -> SendOutcome {
        let Destination::Webhook {
            url,
            sealed_secret,
            previous_sealed_secret,
            previous_secret_expires_at,
        } = &delivery.subscription.destination
        else {
            return SendOutcome::Permanent("NotAWebhook".to_owned());
        };
        let context = context_of(delivery.subscription);
        let mut sealed = vec![sealed_secret];
        if let (Some(previous), Some(until)) = (previous_sealed_secret, previous_secret_expires_at) {
            if *until > chrono::Utc::now() {
                sealed.push(previous);
            }
        }
        let mut keys = Vec::with_capacity(sealed.len());
        for secret in sealed {
            match self.secrets.open(secret, &context).await {
                Ok(secret) => keys.extend(secret_key(&secret)),
                Err(e) => return SendOutcome::Transient(format!("OpenSigningSecret: {}", e.kind_label())),
            }
        }
        let traceparent = delivery.attributes.traceparent.as_deref();
        self.webhooks
            .send(url, delivery.message_id, delivery.body, &keys, traceparent)
            .await
    }

    /// Sends one group of deliveries to the same target.
    async fn send_group(&self, target: &Target, group: &[&Delivery<'_>]) -> Vec<SendOutcome> {
        let mut outcomes = Vec::with_capacity(group.len());
        match target {
            Target::Webhook => {
                for chunk in group.chunks(CONCURRENT_SENDS) {
                    let mut sends = Vec::with_capacity(chunk.len());
                    for delivery in chunk {
                        sends.push(self.send_webhook(delivery));
                    }
                    outcomes.extend(join_all(sends).await);
                }
            }
            Target::Sqs { queue_url, client }
            | Target::Sns {
                topic_arn: queue_url,
                client,
            } => {
                let clients = match self.clients(client, group[0].subscription).await {
                    Ok(clients) => clients,
                    Err(outcome) => return vec![outcome; group.len()],
                };
                let sizes = group.iter().map(|d| d.body.len() + ATTRIBUTES_BYTES);
                for batch in batches(sizes).into_iter().map(|range| &group[range]) {
                    let sent = match target {
                        Target::Sqs { .. } => self.send_sqs(queue_url, &clients.0, batch).await,
                        _ => self.send_sns(queue_url, &clients.1, batch).await,
                    };
                    outcomes.extend(sent);
                }
            }
        }
        outcomes
    }
}

/// What SQS's and SNS's batch calls share: one entry per delivery (a FIFO target's grouped by store and
/// deduplicated by the envelope id), `send` of them all, and one outcome per delivery: delivered, except the
/// entries the call lists as failed (by entry id, the index in the batch), or all failing as the call did.
async fn send_batch<E, Sent>(
    batch: &[&Delivery<'_>],
    fifo: bool,
    entry: impl Fn(String, &Delivery<'_>, Option<(&str, &str)>) -> Result<E, BuildError>,
    send: impl FnOnce(Vec<E>) -> Sent,
) -> Vec<SendOutcome>
where
    Sent: Future<Output = Result<Vec<(usize, SendOutcome)>, SendOutcome>>,
{
    let entries: Result<Vec<E>, BuildError> = batch
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let fifo = fifo.then(|| (d.subscription.store_id.as_str(), d.message_id));
            entry(i.to_string(), d, fifo)
        })
        .collect();
    let Ok(entries) = entries else {
        return vec![SendOutcome::Permanent("InvalidMessage".to_owned()); batch.len()];
    };
    match send(entries).await {
        Ok(failures) => {
            let mut outcomes = vec![SendOutcome::Delivered; batch.len()];
            for (i, outcome) in failures {
                if let Some(slot) = outcomes.get_mut(i) {
                    *slot = outcome;
                }
            }
            outcomes
        }
        Err(outcome) => vec![outcome; batch.len()],
    }
}

/// The entries a batch call lists as failed, by their index, with how each failed.
fn failed<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(usize, SendOutcome)> {
    entries
        .filter_map(|(id, code)| Some((id.parse().ok()?, classify(Some(code), "SendFailed"))))
        .collect()
}

fn error_kind<E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> &'static str {
    use aws_smithy_runtime_api::client::result::SdkError;
    match error {
        SdkError::TimeoutError(_) => "Timeout",
        SdkError::DispatchFailure(_) => "ConnectionFailed",
        SdkError::ConstructionFailure(_) => "RequestNotBuilt",
        _ => "UnknownError",
    }
}

fn sqs_attributes(attributes: &MessageAttributes) -> HashMap<String, SqsAttribute> {
    named_attributes(attributes)
        .filter_map(|(name, value)| {
            let attribute = SqsAttribute::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .ok()?;
            Some((name.to_owned(), attribute))
        })
        .collect()
}

fn sns_attributes(attributes: &MessageAttributes) -> HashMap<String, SnsAttribute> {
    named_attributes(attributes)
        .filter_map(|(name, value)| {
            let attribute = SnsAttribute::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .ok()?;
            Some((name.to_owned(), attribute))
        })
        .collect()
}

fn named_attributes(attributes: &MessageAttributes) -> impl Iterator<Item = (&'static str, &str)> {
    [
        ("type", Some(attributes.type_.as_str())),
        ("entityType", Some(attributes.entity_type.as_str())),
        ("operation", Some(attributes.operation.as_str())),
        ("eventName", attributes.event_name.as_deref()),
        (TRACEPARENT, attributes.traceparent.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
}

impl Publisher for AwsPublisher {
    async fn publish(&self, deliveries: &[Delivery<'_>]) -> Vec<SendOutcome> {
        let mut groups: Vec<(Target, Vec<usize>)> = Vec::new();
        for (i, delivery) in deliveries.iter().enumerate() {
            let target = target_of(delivery.subscription);
            match groups.iter_mut().find(|(t, _)| *t == target) {
                Some((_, members)) => members.push(i),
                None => groups.push((target, vec![i])),
            }
        }
        let grouped: Vec<Vec<&Delivery<'_>>> = groups
            .iter()
            .map(|(_, members)| members.iter().map(|&i| &deliveries[i]).collect())
            .collect();
        let mut sends = Vec::with_capacity(groups.len());
        for ((target, _), group) in groups.iter().zip(&grouped) {
            sends.push(self.send_group(target, group));
        }
        let mut outcomes = vec![SendOutcome::Transient("NotSent".to_owned()); deliveries.len()];
        for ((_, members), sent) in groups.iter().zip(join_all(sends).await) {
            for (&i, outcome) in members.iter().zip(sent) {
                outcomes[i] = outcome;
            }
        }
        outcomes
    }
}
