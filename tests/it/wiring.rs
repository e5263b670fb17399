//! Each function as production builds it (its `wiring::Config::from_env` over its `template.yaml`
//! environment, then its `wiring::build`), over a fixture's table, queue and clock: what every test drives.

use std::collections::HashMap;

use collector_aws::dynamo::DynamoTable;
use collector_aws::kms::KmsSecretBox;
use collector_aws::publisher::AwsPublisher;
use collector_aws::sendgrid::SendGrid;
use collector_aws::sqs::SqsDispatchQueue;
use collector_aws::SdkConfig;
use collector_core::service::notifications::NotificationRunner;
use integration_tests::{function_env, read_response, Clients};
use serde_json::Value;

use crate::pipeline::Pipeline;
use crate::support::Fixture;

pub type Dispatcher = dispatch::Handler<DynamoTable, AwsPublisher, SqsDispatchQueue>;

/// The template's environment of `logical` over the fixture's table and dispatch queue, in local mode (so
/// deliveries may go to this machine's receivers), and `extra`.
pub fn env_of(f: &Fixture, logical: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let shards = integration_tests::TEST_PENDING_SHARDS.to_string();
    let mut overrides = vec![
        ("PENDING_SHARDS", shards.as_str()),
        ("TABLE_NAME", f.table_name.as_str()),
        ("DISPATCH_QUEUE_URL", f.dispatch_queue_url.as_str()),
        ("LOCAL_MODE", "true"),
    ];
    overrides.extend_from_slice(extra);
    function_env(logical, &overrides)
}

/// The real dispatch function's dependencies, as production builds them, over the fixture's table and queue,
/// its clock and clients that count requests.
pub fn dispatch_deps(f: &Fixture) -> dispatch::Deps<DynamoTable, AwsPublisher, SqsDispatchQueue> {
    dispatch_deps_over(f, &f.clients.config)
}

/// [`dispatch_deps`] with clients from `sdk`.
pub fn dispatch_deps_over(f: &Fixture, sdk: &SdkConfig) -> dispatch::Deps<DynamoTable, AwsPublisher, SqsDispatchQueue> {
    let config = dispatch::wiring::Config::from_env(&env_of(f, "DispatchFunction", &[])).expect("its environment");
    let mut deps = dispatch::wiring::build(sdk, &config);
    deps.clock = Box::new(f.clock.clone());
    deps
}

/// The real dispatch handler (see [`dispatch_deps`]).
pub fn dispatcher(f: &Fixture) -> Dispatcher {
    dispatch::Handler::from(dispatch_deps(f))
}

/// The handlers of every function over clients whose requests fail as `clients.faults` says. The SDK's
/// own retries are off in these clients, so every injected fault reaches our code.
pub struct Faulty {
    pub clients: Clients,
    pub ingest: ingest::Handler<DynamoTable, SqsDispatchQueue>,
    pub bulk: bulk_ingest::Handler<DynamoTable, SqsDispatchQueue>,
    pub dispatcher: Dispatcher,
    pub table: DynamoTable,
    pub queue: SqsDispatchQueue,
}

impl Faulty {
    pub async fn new(f: &Fixture) -> Self {
        let clients = Clients::without_sdk_retries().await;
        let table = DynamoTable::new(clients.dynamodb.clone(), &f.table_name)
            .with_pending_shards(integration_tests::TEST_PENDING_SHARDS);
        let queue = SqsDispatchQueue::new(clients.sqs.clone(), &f.dispatch_queue_url);
        Self {
            ingest: ingest::Handler::from(f.ingest_deps(&clients.config, "IngestFunction")),
            bulk: bulk_ingest::Handler::from(f.ingest_deps(&clients.config, "BulkIngestFunction")),
            dispatcher: dispatch::Handler::from(dispatch_deps_over(f, &clients.config)),
            table,
            queue,
            clients,
        }
    }
}

/// The jobs endpoint as production builds it, over the fixture's table and clock.
pub fn jobs_handler(f: &Fixture) -> jobs::Handler<DynamoTable> {
    let config = jobs::wiring::Config::from_env(&env_of(f, "JobsFunction", &[])).expect("its environment");
    let mut deps = jobs::wiring::build(&f.clients.config, &config);
    deps.clock = Box::new(f.clock.clone());
    jobs::Handler::from(deps)
}

/// The reads endpoint as production builds it, over the fixture's table and clock.
pub fn reads_handler(f: &Fixture) -> reads::Handler<DynamoTable, KmsSecretBox> {
    let config = reads::wiring::Config::from_env(&env_of(f, "ReadsFunction", &[])).expect("its environment");
    let mut deps = reads::wiring::build(&f.clients.config, &config);
    deps.clock = Box::new(f.clock.clone());
    reads::Handler::from(deps)
}

/// Every HTTP function's handler over one fixture, by the function's name: what API Gateway invokes, for the
/// servers that stand in for it on a loopback port.
pub struct HttpFunctions {
    f: &'static Fixture,
    p: Pipeline<'static>,
    jobs: jobs::Handler<DynamoTable>,
    reads: reads::Handler<DynamoTable, KmsSecretBox>,
}

impl HttpFunctions {
    /// Kept for the rest of the run: the servers' tasks borrow it.
    pub fn leaked(f: &'static Fixture) -> &'static Self {
        Box::leak(Box::new(Self {
            f,
            p: Pipeline::new(f),
            jobs: jobs_handler(f),
            reads: reads_handler(f),
        }))
    }

    pub async fn handle(
        &self,
        function: &str,
        request: lambda_http::Request,
    ) -> lambda_http::Response<lambda_http::Body> {
        match function {
            "ingest" => self.f.handler.handle(request).await,
            "bulk-ingest" => self.f.bulk.handle(request).await,
            "subscriptions" => self.p.subscriptions.handle(request).await,
            "jobs" => self.jobs.handle(request).await,
            "reads" => self.reads.handle(request).await,
            other => panic!("no HTTP function {other}"),
        }
    }
}

/// Creates a job through the API; its id.
pub async fn create_job(f: &Fixture, body: &Value) -> String {
    let (status, created) = read_response(jobs_handler(f).handle(f.json_post("/api/v1/jobs", body)).await);
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("an id").to_owned()
}

pub type Scheduler =
    scheduler::Handler<DynamoTable, SqsDispatchQueue, NotificationRunner<DynamoTable, SendGrid, KmsSecretBox>>;

/// The real scheduler as production builds it, over the fixture's table, queue and clock, mailing through
/// SendGrid at `sendgrid_base` (a local receiver) with the template's defaults of every other setting.
pub fn scheduler(f: &Fixture, sendgrid_base: &str) -> Scheduler {
    scheduler_with(f, sendgrid_base, &[])
}

/// [`scheduler`] with more of its environment set (`extra` wins).
pub fn scheduler_with(f: &Fixture, sendgrid_base: &str, extra: &[(&str, &str)]) -> Scheduler {
    let mut settings = vec![("SENDGRID_BASE_URL", sendgrid_base)];
    settings.extend_from_slice(extra);
    let env = env_of(f, "SchedulerFunction", &settings);
    let config = scheduler::wiring::Config::from_env(&env).expect("its environment");
    let mut deps = scheduler::wiring::build(&f.clients.config, &config);
    deps.clock = Box::new(f.clock.clone());
    deps.runner.clock = Box::new(f.clock.clone());
    deps.runner.mailer = deps.runner.mailer.with_backoff(std::time::Duration::from_millis(10));
    scheduler::Handler::from(deps)
}
