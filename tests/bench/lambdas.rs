//! `make bench` (lambdas): every function's release binary (`target/lambda/<function>/bootstrap`, from
//! `make build`) run as Lambda runs it, against a local Runtime API ([`runtime_api`]) and the local stack.
//!
//! - Cold start: from process spawn to its first `next` (init), and to its answer of a first real invocation.
//! - Init touches no network: one start per function with every endpoint pointed at a listener that counts
//!   connections.
//! - Peak RSS (`VmHWM`) after that first invocation: a 100-event bulk, a 10-message dispatch batch.
//! - Load: single and bulk ingest from several processes at once; latency percentiles, and the CPU time of
//!   our processes against the emulator's, so moto's slowness is not mistaken for ours.
//!
//! Writes `target/bench/lambdas.json` for `scripts/perf_report.py`.

mod runtime_api;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use collector_aws::dynamo::DynamoTable;
use collector_aws::sqs::SqsDispatchQueue;
use collector_core::domain::api_key::Scope;
use collector_core::ports::{RandomIds, SystemClock};
use collector_core::service::admin::{create_store, issue_key};
use collector_core::service::ingest::IngestConfig;
use collector_http::edge::IngestDeps;
use integration_tests::{apigw_event, local_aws, target_dir, Clients};
use runtime_api::RuntimeApi;
use serde_json::{json, Value};

const STARTS: usize = 6;
const LOAD_PROCESSES: usize = 4;
const LOAD_SINGLES: usize = 50;
const LOAD_BULKS: usize = 1;

/// The store, its key, and an in-process bulk handler to prepare what dispatch is handed.
struct Stack {
    rt: tokio::runtime::Runtime,
    env: HashMap<String, HashMap<String, String>>,
    store_id: String,
    auth: String,
    prepare: bulk_ingest::Handler<DynamoTable, SqsDispatchQueue>,
}

fn bootstrap(function: &str) -> PathBuf {
    let path = target_dir().join("lambda").join(function).join("bootstrap");
    assert!(path.exists(), "{} is missing: run `make build` first", path.display());
    path
}

impl Stack {
    fn new() -> Self {
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        let aws = local_aws();
        let (store_id, auth, prepare) = rt.block_on(async {
            let clients = Clients::new().await;
            let table = DynamoTable::new(clients.dynamodb.clone(), &aws.table);
            let now = Utc::now();
            let store = create_store(&table, &RandomIds, "bench", now).await.unwrap();
            let key = issue_key(&table, &RandomIds, &store.store_id, Scope::ALL.to_vec(), now)
                .await
                .unwrap();
            let deps = IngestDeps::new(
                table,
                SqsDispatchQueue::new(clients.sqs.clone(), &aws.dispatch_queue_url),
                Box::new(SystemClock),
                Box::new(RandomIds),
                IngestConfig::default(),
            );
            (
                store.store_id.to_string(),
                format!("Bearer {}", key.plaintext),
                bulk_ingest::Handler::from(deps),
            )
        });
        let env = aws.resources["functions"]
            .as_object()
            .expect("functions")
            .values()
            .map(|f| {
                let vars = f["env"].as_object().expect("env");
                let vars = vars
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()));
                (f["binary"].as_str().expect("binary").to_owned(), vars.collect())
            })
            .collect();
        Stack {
            rt,
            env,
            store_id,
            auth,
            prepare,
        }
    }

    /// Spawns `function` as Lambda would, talking to `api`; `endpoint` is where it finds AWS (and SendGrid).
    fn spawn(&self, function: &str, api: &RuntimeApi, endpoint: &str) -> Child {
        let mut command = Command::new(bootstrap(function));
        command
            .env_clear()
            .envs(&self.env[function])
            .envs([
                ("AWS_LAMBDA_RUNTIME_API", api.address.as_str()),
                ("AWS_LAMBDA_FUNCTION_NAME", function),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
                ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
                ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "local"),
                ("AWS_SECRET_ACCESS_KEY", "local"),
                ("AWS_ENDPOINT_URL", endpoint),
                ("SENDGRID_BASE_URL", endpoint),
                ("SENDGRID_API_KEY", "SG.bench"),
                ("SENDGRID_FROM", "bench@example.com"),
                ("LOCAL_MODE", "true"),
                ("RUST_LOG", "warn"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if function == "scheduler" {
            // The tick measured is the function's own cost, not moto's: its sweep reads the 16 pending
            // shards `make run` and the tests use (moto answers each query by scanning the whole table, so
            // the deployment's 4,096 over the bench's table are minutes of moto), and finds nothing stalled
            // however long the bench has run (its own events, ingested minutes before, would pass the
            // five-minute grace).
            command.env("PENDING_SHARDS", "16");
            command.env("SWEEP_GRACE_SECONDS", "86400");
        }
        integration_tests::die_with_parent(&mut command);
        command.spawn().expect("the function starts")
    }

    fn http(&self, method: &str, path: &str, body: Option<&Value>) -> String {
        let body = body.map(Value::to_string);
        let headers = [
            ("authorization", self.auth.as_str()),
            ("content-type", "application/json"),
        ];
        apigw_event(method, path, &headers, body.as_deref()).to_string()
    }

    fn events(&self, run: &str, count: usize) -> Vec<Value> {
        (0..count)
            .map(|i| json!({"eventName": "Order Placed", "uniqueId": format!("{run}-{i}"),
                           "customer": {"email": format!("{run}-{i}@example.com"), "firstName": "Bench"},
                           "value": 10.5, "valueCurrency": "USD", "data": {"Order Id": format!("o-{run}-{i}"), "Items": 3}}))
            .collect()
    }

    /// Ten events stored (in process), and the SQS event that hands their dispatch messages over.
    fn dispatch_batch(&self, run: &str) -> String {
        let request = integration_tests::apigw_request(
            "POST",
            &format!("/stores/{}/events/bulk", self.store_id),
            &[("authorization", &self.auth), ("content-type", "application/json")],
            Some(&json!({ "events": self.events(run, 10) }).to_string()),
        );
        let response = self.rt.block_on(self.prepare.handle(request));
        let (_, report) = integration_tests::read_response(response);
        let records: Vec<Value> = report["results"]
            .as_array()
            .expect("a bulk report")
            .iter()
            .enumerate()
            .map(|(i, result)| {
                let body = json!({"storeId": self.store_id, "eventId": result["eventId"]}).to_string();
                json!({"messageId": format!("{run}-{i}"), "receiptHandle": format!("{run}-{i}"), "body": body,
                       "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                       "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:dispatch",
                       "awsRegion": "us-east-1"})
            })
            .collect();
        json!({ "Records": records }).to_string()
    }

    /// What `function` is handed on its first invocation in run `run`, and what it should do with it.
    fn first_invocation(&self, function: &str, run: &str) -> (String, &'static str) {
        let events = format!("/stores/{}/events", self.store_id);
        match function {
            "ingest" => (
                self.http("POST", &events, Some(&self.events(run, 1)[0])),
                "one event, new customer",
            ),
            "bulk-ingest" => (
                self.http(
                    "POST",
                    &format!("{events}/bulk"),
                    Some(&json!({ "events": self.events(run, 100) })),
                ),
                "100-event bulk, new customers",
            ),
            "subscriptions" => (
                self.http("GET", "/api/v1/event-subscription", None),
                "list subscriptions",
            ),
            "jobs" => (self.http("GET", "/api/v1/jobs", None), "list jobs"),
            "reads" => (
                self.http("GET", &format!("{events}?limit=50"), None),
                "a page of 50 events",
            ),
            "dispatch" => (self.dispatch_batch(run), "10-message batch to one SQS subscriber"),
            "scheduler" => (
                json!({"version": "0", "id": run, "detail-type": "Scheduled Event", "source": "aws.events",
                       "account": "123456789012", "time": Utc::now().to_rfc3339(), "region": "us-east-1",
                       "resources": ["arn:aws:events:us-east-1:123456789012:rule/tick"], "detail": {}})
                .to_string(),
                "one tick: sweep (nothing stalled) and due jobs",
            ),
            other => panic!("no scenario for {other}"),
        }
    }

    /// The subscription dispatch delivers to, created through the subscriptions function itself.
    fn subscribe_a_queue(&self) {
        let queue_url = self.rt.block_on(async {
            let clients = Clients::new().await;
            let name = format!("bench-subscriber-{}", std::process::id());
            let created = clients.sqs.create_queue().queue_name(name).send().await.unwrap();
            created.queue_url.unwrap()
        });
        let body = json!({"eventNames": ["*"], "destination": {"type": "SQS", "sqs": {"queueUrl": queue_url, "region": "us-east-1"}}});
        let api = RuntimeApi::start();
        let mut child = self.spawn("subscriptions", &api, &local_aws().endpoint);
        api.wait_next();
        let answer = api.invoke(self.http("POST", "/api/v1/event-subscription", Some(&body)));
        stop(&mut child);
        assert_http_ok(&answer.body);
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn assert_http_ok(answer: &str) {
    let answer: Value = serde_json::from_str(answer).expect("a JSON answer");
    let status = answer["statusCode"].as_u64().expect("an HTTP answer");
    assert!(status < 300, "the function answered {status}: {answer}");
}

/// Peak resident set of a live process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process is alive");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// User plus system CPU time a process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process is alive");
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("a stat line")
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf only reads a constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_micros(ticks * 1_000_000 / per_second)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

fn summary(mut values: Vec<f64>) -> Value {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    json!({"median": at(0.5), "p99": at(0.99), "max": values[values.len() - 1], "n": values.len()})
}

/// Connections a listener got, counted for `window` after `ready` returns.
fn init_connections(stack: &Stack, function: &str) -> usize {
    let sentinel = TcpListener::bind("127.0.0.1:0").unwrap();
    sentinel.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", sentinel.local_addr().unwrap());
    let api = RuntimeApi::start();
    let mut child = stack.spawn(function, &api, &endpoint);
    api.wait_next();
    std::thread::sleep(Duration::from_millis(100));
    stop(&mut child);
    std::iter::from_fn(|| sentinel.accept().ok()).count()
}

fn cold_starts(stack: &Stack, function: &str) -> Value {
    let (mut init, mut first, mut handled, mut rss) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut scenario = "";
    for start in 0..STARTS {
        let run = format!("{function}-{}-{start}", std::process::id());
        let (payload, described) = stack.first_invocation(function, &run);
        scenario = described;
        let api = RuntimeApi::start();
        let spawned = Instant::now();
        let mut child = stack.spawn(function, &api, &local_aws().endpoint);
        let ready = api.wait_next();
        let answer = api.invoke(payload);
        rss.push(peak_rss_kib(child.id()) as f64 / 1024.0);
        stop(&mut child);
        assert!(!answer.failed, "{function} failed its invocation: {}", answer.body);
        match function {
            "dispatch" => assert_eq!(
                serde_json::from_str::<Value>(&answer.body).unwrap()["batchItemFailures"],
                json!([]),
                "dispatch failed items"
            ),
            "scheduler" => {}
            _ => assert_http_ok(&answer.body),
        }
        init.push(ms(ready - spawned));
        first.push(ms(answer.answered_at - spawned));
        handled.push(ms(answer.answered_at - answer.handed_at));
    }
    let connections = init_connections(stack, function);
    json!({
        "scenario": scenario,
        "init_ms": summary(init),
        "first_answer_ms": summary(first),
        "first_invocation_ms": summary(handled),
        "peak_rss_mb": summary(rss),
        "init_network_connections": connections,
    })
}

/// `LOAD_PROCESSES` warm instances of `function`, each answering `per_process` invocations back to back.
fn load(stack: &Stack, function: &str, per_process: usize, events_per_request: usize) -> Value {
    let (apis, mut children): (Vec<RuntimeApi>, Vec<Child>) = (0..LOAD_PROCESSES)
        .map(|_| {
            let api = RuntimeApi::start();
            let child = stack.spawn(function, &api, &local_aws().endpoint);
            api.wait_next();
            (api, child)
        })
        .unzip();
    let path = if events_per_request == 1 {
        format!("/stores/{}/events", stack.store_id)
    } else {
        format!("/stores/{}/events/bulk", stack.store_id)
    };
    let payloads: Vec<Vec<String>> = (0..LOAD_PROCESSES)
        .map(|p| {
            (0..per_process)
                .map(|i| {
                    let events = stack.events(
                        &format!("load-{function}-{}-{p}-{i}", std::process::id()),
                        events_per_request,
                    );
                    let body = if events_per_request == 1 {
                        events[0].clone()
                    } else {
                        json!({ "events": events })
                    };
                    stack.http("POST", &path, Some(&body))
                })
                .collect()
        })
        .collect();
    let our_cpu = |children: &[Child]| children.iter().map(|c| cpu_time(c.id())).sum::<Duration>();
    let ours_before = our_cpu(&children);
    let moto_before = cpu_time(local_aws().moto_pid);
    let started = Instant::now();
    let latencies: Vec<f64> = std::thread::scope(|scope| {
        let workers: Vec<_> = apis
            .into_iter()
            .zip(payloads)
            .map(|(api, payloads)| {
                scope.spawn(move || {
                    payloads
                        .into_iter()
                        .map(|payload| {
                            let answer = api.invoke(payload);
                            assert!(!answer.failed, "{}", answer.body);
                            assert_http_ok(&answer.body);
                            ms(answer.answered_at - answer.handed_at)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let wall = started.elapsed();
    let ours = our_cpu(&children) - ours_before;
    let moto = cpu_time(local_aws().moto_pid) - moto_before;
    for child in &mut children {
        stop(child);
    }
    let requests = latencies.len();
    json!({
        "processes": LOAD_PROCESSES,
        "requests": requests,
        "events": requests * events_per_request,
        "wall_s": wall.as_secs_f64(),
        "requests_per_s": requests as f64 / wall.as_secs_f64(),
        "events_per_s": (requests * events_per_request) as f64 / wall.as_secs_f64(),
        "latency_ms": summary(latencies),
        "our_cpu_ms_per_request": ms(ours) / requests as f64,
        "emulator_cpu_ms_per_request": ms(moto) / requests as f64,
        "our_cpu_share": ours.as_secs_f64() / (ours + moto).as_secs_f64(),
    })
}

fn main() {
    let stack = Stack::new();
    stack.subscribe_a_queue();
    let mut functions = serde_json::Map::new();
    for function in integration_tests::FUNCTIONS {
        eprintln!("cold starts: {function}");
        functions.insert(function.to_owned(), cold_starts(&stack, function));
    }
    eprintln!("load: single ingest");
    let single = load(&stack, "ingest", LOAD_SINGLES, 1);
    eprintln!("load: bulk ingest");
    let bulk = load(&stack, "bulk-ingest", LOAD_BULKS, 100);
    let report = json!({
        "starts": STARTS,
        "functions": functions,
        "load": {"single": single, "bulk": bulk},
    });
    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("lambdas.json"), serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
