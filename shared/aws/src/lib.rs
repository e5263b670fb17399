//! The adapters: the core's ports implemented on AWS (DynamoDB, SQS, SNS, KMS, STS) and on the HTTP services
//! we call (webhooks, SendGrid). SDK errors become [`collector_core::ports::StoreError`] here, and
//! conditional-check failures become outcomes. Nothing here knows the HTTP edge or a function.

pub mod activity_table;
pub mod admin_table;
pub mod admission_table;
pub mod audience_table;
pub mod batches;
pub mod dispatch_table;
pub mod dynamo;
pub mod entity_table;
pub mod erasure_table;
pub mod errors;
pub mod ingest_table;
pub mod job_table;
pub mod keys;
pub mod kms;
mod ledger_listing;
pub mod publisher;
pub mod reads_table;
pub mod replay_table;
pub mod sendgrid;
mod shard_merge;
pub mod sqs;
mod subscription_table;
pub mod sweep_table;
pub mod webhook;

pub use aws_config::SdkConfig;

/// Loads the AWS configuration from the environment (region, credentials, and `AWS_ENDPOINT_URL` for the
/// local stack). Builds no client and opens no connection: cheap on a cold start.
pub async fn aws_config() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}
