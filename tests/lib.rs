//! Test support: one moto server per test binary on a free port, resources provisioned from
//! `template.yaml`, SDK clients that count their requests, and API Gateway v2 requests.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

mod clients;
mod faults;
pub mod heat;
mod partition_buckets;
pub use clients::{Clients, RequestLog, RATE_LIMIT};
pub use faults::{Fault, Faults};
pub use partition_buckets::PartitionBuckets;

/// The local AWS shared by every test of the binary, and the names of what was provisioned in it.
#[derive(Debug)]
pub struct LocalAws {
    pub endpoint: String,
    /// The emulator's process, for the benchmarks' share of CPU time.
    pub moto_pid: u32,
    pub table: String,
    pub dispatch_queue_url: String,
    /// The KMS key that seals subscription secrets.
    pub secrets_key_id: String,
    pub resources: Value,
}

static LOCAL_AWS: OnceLock<LocalAws> = OnceLock::new();

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repo")
        .to_owned()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the repo, as cargo reads it from a
/// command run there), else `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    }
}

/// The project virtualenv (`VENV`, else `.venv`).
pub fn venv() -> PathBuf {
    std::env::var_os("VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"))
}

/// Starts moto (once) and provisions `template.yaml` in it under a name prefix unique to this process.
pub fn local_aws() -> &'static LocalAws {
    LOCAL_AWS.get_or_init(|| {
        let port = free_port();
        let moto_pid = start_moto(port);
        let endpoint = format!("http://127.0.0.1:{port}");
        let prefix = format!("it{}-", std::process::id());
        let output = Command::new(venv().join("bin/python"))
            .arg(repo_root().join("scripts/provision.py"))
            .args(["--endpoint", &endpoint, "--prefix", &prefix, "--template"])
            .arg(repo_root().join("template.yaml"))
            .output()
            .expect("provision.py runs (make venv installs its dependencies)");
        assert!(
            output.status.success(),
            "provisioning failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let resources: Value = serde_json::from_slice(&output.stdout).expect("provision.py prints JSON");
        let env = &resources["functions"]["IngestFunction"]["env"];
        LocalAws {
            endpoint,
            moto_pid,
            table: env["TABLE_NAME"].as_str().expect("TABLE_NAME").to_owned(),
            dispatch_queue_url: env["DISPATCH_QUEUE_URL"]
                .as_str()
                .expect("DISPATCH_QUEUE_URL")
                .to_owned(),
            secrets_key_id: resources["functions"]["SubscriptionsFunction"]["env"]["SECRETS_KEY_ID"]
                .as_str()
                .expect("SECRETS_KEY_ID")
                .to_owned(),
            resources,
        }
    })
}

/// The environment `template.yaml` gives the function `logical` (`IngestFunction` …), every reference resolved
/// against the local AWS, with `overrides` on top: what that function's `Config::from_env` reads in
/// production, so the tests build each function as its `main` does.
pub fn function_env(logical: &str, overrides: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    let env = local_aws().resources["functions"][logical]["env"]
        .as_object()
        .unwrap_or_else(|| panic!("template.yaml has no function {logical}"));
    let mut env: std::collections::HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    env.extend(overrides.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    env
}

/// How many pending shards the tests' tables spread events over (`PENDING_SHARDS`): the deployment's 4,096
/// would make every sweep of a test 4,096 queries of moto. Same code, a smaller count; the heat model
/// takes the template's.
pub const TEST_PENDING_SHARDS: u16 = 16;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Spawns moto (`scripts/moto_server.py`: one DynamoDB request at a time, as atomic as DynamoDB) from a thread that lives as long as the process, with the parent-death signal set, so the
/// server stops when the test binary exits however it exits.
fn start_moto(port: u16) -> u32 {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut command = Command::new(venv().join("bin/python"));
        command
            .arg(repo_root().join("scripts/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_parent(&mut command);
        let child = command.spawn();
        sender.send(child.map(|c| c.id())).expect("the starter waits");
        loop {
            std::thread::park();
        }
    });
    let pid = receiver
        .recv()
        .expect("the moto thread answers")
        .expect("moto_server starts (run `make venv` first)");
    wait_for_port(port, "moto");
    pid
}

/// Waits up to 60 s for `what` to listen on `port`.
pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on port {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every Lambda function of the workspace by its crate name, which is also its binary's and its `events/`
/// directory's name.
pub const FUNCTIONS: [&str; 7] = [
    "ingest",
    "bulk-ingest",
    "subscriptions",
    "jobs",
    "reads",
    "dispatch",
    "scheduler",
];

/// Makes the child of `command` get SIGKILL when this process ends, however it ends: no server outlives a
/// test or benchmark run.
pub fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// `template.yaml` as `scripts/template.py describe` reads it (the one reader of the template, the scripts'
/// too): per function its binary, environment, routes and grants, and the environment all functions share.
pub fn template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let output = Command::new(venv().join("bin/python"))
            .arg(repo_root().join("scripts/template.py"))
            .args(["describe", "--template"])
            .arg(repo_root().join("template.yaml"))
            .output()
            .expect("template.py runs (make venv installs its dependencies)");
        assert!(
            output.status.success(),
            "template.py failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("template.py prints JSON")
    })
}

/// The IAM actions `template.yaml` grants the function resource `function` (`IngestFunction`), with the
/// table's indexes named in its resources as `dynamodb:<action> index/<name>` for each of its DynamoDB
/// actions.
pub fn granted_actions(function: &str) -> BTreeSet<String> {
    let grants = template()["functions"][function]["grants"]
        .as_array()
        .unwrap_or_else(|| panic!("{function} is in the template"));
    let mut actions = BTreeSet::new();
    let mut indexes = Vec::new();
    for grant in grants {
        for action in grant["actions"].as_array().into_iter().flatten() {
            actions.insert(action.as_str().expect("an action is a string").to_owned());
        }
        // A resource is an ARN or an intrinsic (`!Sub "${CollectorTable.Arn}/index/pending"`): its text says.
        for resource in grant["resources"].as_array().into_iter().flatten() {
            let text = resource.to_string();
            if let Some((_, index)) = text.split_once("/index/") {
                indexes.push(index.trim_end_matches(|c: char| !c.is_alphanumeric()).to_owned());
            }
        }
    }
    let dynamodb: Vec<String> = actions.iter().filter(|a| a.starts_with("dynamodb:")).cloned().collect();
    for action in dynamodb {
        for index in &indexes {
            actions.insert(format!("{action} index/{index}"));
        }
    }
    actions
}

/// A new table with the definition of the one provisioned from template.yaml (keys, indexes, TTL), so each
/// test owns its data. moto copies a whole table on every transaction; small tables keep that cheap.
pub async fn clone_template_table(dynamodb: &aws_sdk_dynamodb::Client, name: &str) -> String {
    use aws_sdk_dynamodb::types::{BillingMode, GlobalSecondaryIndex, TimeToLiveSpecification};
    let template = local_aws().table.as_str();
    let described = dynamodb
        .describe_table()
        .table_name(template)
        .send()
        .await
        .expect("the template table exists");
    let table = described.table.expect("a table description");
    let indexes: Vec<GlobalSecondaryIndex> = table
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(index.index_name().unwrap_or_default())
                .set_key_schema(Some(index.key_schema().to_vec()))
                .set_projection(index.projection().cloned())
                .build()
                .expect("a valid index")
        })
        .collect();
    dynamodb
        .create_table()
        .table_name(name)
        .set_key_schema(Some(table.key_schema().to_vec()))
        .set_attribute_definitions(Some(table.attribute_definitions().to_vec()))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("table created");
    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(template)
        .send()
        .await
        .expect("TTL described");
    if let Some(attribute) = ttl.time_to_live_description().and_then(|t| t.attribute_name()) {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .expect("a TTL spec");
        dynamodb
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .expect("TTL set");
    }
    name.to_owned()
}

/// An API Gateway HTTP API (payload v2) request, deserialized exactly as Lambda would hand it over.
pub fn apigw_request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Request {
    let request: LambdaRequest =
        serde_json::from_value(apigw_event(method, path, headers, body)).expect("a valid API Gateway v2 event");
    request.into()
}

/// The JSON API Gateway (HTTP API, payload v2) sends a function for this request.
pub fn apigw_event(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Value {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let parameters: serde_json::Map<String, Value> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), json!(v)))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": format!("{method} /stores/{{storeId}}/events"),
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": parameters,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "tests"},
            "requestId": "test-request",
            "routeKey": format!("{method} /stores/{{storeId}}/events"),
            "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1_795_000_000_000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// A response's status and JSON body.
pub fn read_response(response: Response<Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: &[u8] = response.body().as_ref();
    let json = serde_json::from_slice(body).unwrap_or(Value::Null);
    if status >= 400 {
        assert_eq!(
            content_type, "application/problem+json",
            "errors are problem details: {json}"
        );
    }
    (status, json)
}

/// Writes an asserted AWS request count to `target/bench/requests/<figure>.json`, where `make bench` reads it
/// for docs/PERFORMANCE.md. `per` is what the figure is divided by (events, or delivered messages);
/// `rate_limit` the limiter's counter updates, shown apart from `operations`.
pub fn record_request_figure(figure: &str, operations: &BTreeMap<String, usize>, per: usize, rate_limit: usize) {
    let dir = target_dir().join("bench/requests");
    std::fs::create_dir_all(&dir).expect("target/ is writable");
    let requests: usize = operations.values().sum();
    let figure_json = serde_json::json!({
        "figure": figure,
        "operations": operations,
        "requests": requests,
        "per": per,
        "rate_limit_requests": rate_limit,
        "requests_per_unit": requests as f64 / per as f64,
    });
    std::fs::write(dir.join(format!("{figure}.json")), figure_json.to_string()).expect("the figure is written");
}
