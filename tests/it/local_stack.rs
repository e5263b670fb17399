//! The helpers of `make run` (scripts/): the local API gateway in front of the functions, moto next to the
//! local event source mapping's long poll, the supervision that says which helper ended, and cargo's target
//! directory wherever it is. Each runs here as `make run` runs it, against the real handlers and moto.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use integration_tests::{die_with_parent, free_port, repo_root, venv, wait_for_port};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};

use crate::pipeline::read_http_request;
use crate::support::Fixture;
use crate::wiring::HttpFunctions;

/// A helper script of the local stack, killed when the test's thread ends.
fn helper(script: &str, args: &[&str]) -> Child {
    let mut command = Command::new(venv().join("bin/python"));
    command
        .current_dir(repo_root())
        .arg(repo_root().join("scripts").join(script))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    die_with_parent(&mut command);
    command
        .spawn()
        .expect("the helper starts (make venv installs what it needs)")
}

/// The reply of a function, as the Lambda runtime hands it back for an HTTP API event.
fn invocation_reply(response: Response<Body>) -> Value {
    let headers: serde_json::Map<String, Value> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
        .collect();
    let body: &[u8] = response.body().as_ref();
    let (body, encoded) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (STANDARD.encode(body), true),
    };
    json!({"statusCode": response.status().as_u16(), "headers": headers, "body": body, "isBase64Encoded": encoded})
}

/// cargo lambda watch's invoke API, `POST /2015-03-31/functions/{function}/invocations`, over the real
/// handlers. Returns its base URL.
async fn invoke_api(f: &'static Fixture) -> String {
    let functions = HttpFunctions::leaked(f);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let Some((_, target, _, body)) = read_http_request(&mut stream).await else {
                    return;
                };
                let function = target.split('/').nth(3).unwrap_or_default().to_owned();
                let event: LambdaRequest = serde_json::from_slice(&body).expect("an HTTP API event");
                let response = functions.handle(&function, lambda_http::Request::from(event)).await;
                let reply = invocation_reply(response).to_string();
                let wire = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = stream.get_mut().write_all(wire.as_bytes()).await;
            });
        }
    });
    base
}

/// One request to `port`: the status and the body.
async fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_a_body_is_not_utf8_the_local_gateway_should_hand_it_over_as_api_gateway_does() {
    let f: &'static Fixture = Box::leak(Box::new(Fixture::new().await));
    let invoke = invoke_api(f).await;
    let port = free_port();
    let mut gateway = helper("local_gateway.py", &["--port", &port.to_string(), "--invoke", &invoke]);
    wait_for_port(port, "the local gateway");
    let auth = f.bearer();
    let json_headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let events = f.path();

    // watch's own router answered this with a plain-text 500 before any function saw it.
    let (status, body) = http(port, "POST", &events, &json_headers, b"{\"eventName\":\"\xff\xfe\"}").await;
    let problem: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("a problem document: {body}"));
    assert_eq!(
        (status, problem["type"].as_str()),
        (400, Some("/problems/malformed-json")),
        "{body}"
    );

    let event = br#"{"eventName":"Page Viewed","customer":{"email":"gateway@example.com"}}"#;
    let (status, body) = http(port, "POST", &events, &json_headers, event).await;
    assert_eq!(status, 202, "{body}");
    let bulk = br#"{"events":[{"eventName":"Page Viewed","customer":{"email":"gateway@example.com"}}]}"#;
    let (status, body) = http(port, "POST", &format!("{events}/bulk"), &json_headers, bulk).await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&body).unwrap()["summary"]["accepted"].as_u64()
        ),
        (202, Some(1)),
        "the bulk route goes to bulk-ingest: {body}"
    );
    let (status, body) = http(port, "GET", "/api/v1/jobs?x=1", &json_headers, b"").await;
    assert_eq!((status, body.as_str()), (200, "[]"), "ANY routes and a query string");

    // What no route of template.yaml takes is API Gateway's own 404, before any function.
    for (method, path) in [
        ("GET", "/nowhere"),
        ("POST", "/api/v1/events/some-id"),
        ("GET", "/stores/x"),
    ] {
        let (status, body) = http(port, method, path, &json_headers, b"").await;
        assert_eq!(
            (status, body.as_str()),
            (404, r#"{"message":"Not Found"}"#),
            "{method} {path}"
        );
    }
    gateway.kill().and_then(|_| gateway.wait()).expect("the gateway stops");
}

#[tokio::test]
async fn when_the_triggers_long_poll_the_queue_should_not_hold_up_dynamodb_requests() {
    // A moto of its own, as `make run` starts it: the rest of the suite's load on the shared one stays out.
    let port = free_port();
    let mut moto = helper("moto_server.py", &["-H", "127.0.0.1", "-p", &port.to_string()]);
    wait_for_port(port, "moto");
    let endpoint = format!("http://127.0.0.1:{port}");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "tests",
        ))
        .load()
        .await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let queue = aws_sdk_sqs::Client::new(&config)
        .create_queue()
        .queue_name("dispatch")
        .send()
        .await
        .expect("a queue")
        .queue_url
        .expect("its URL");
    let invoke = format!("http://127.0.0.1:{}", free_port());
    let mut triggers = Command::new(venv().join("bin/python"));
    triggers
        .arg(repo_root().join("scripts/local_triggers.py"))
        .args([
            "--invoke",
            &invoke,
            "--queue-url",
            &queue,
            "--tick",
            "3600",
            "--wait",
            "5",
        ])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    die_with_parent(&mut triggers);
    let mut triggers = triggers.spawn().expect("local_triggers.py starts");
    // Its first act is the scheduler tick (which fails: nothing listens there); the long polls follow.
    let stdout = triggers.stdout.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(first_line.contains("scheduler"), "{first_line}");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut took = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        dynamodb.list_tables().limit(1).send().await.unwrap();
        took.push(started.elapsed());
    }
    assert!(triggers.try_wait().unwrap().is_none(), "the triggers still poll");
    for helper in [&mut triggers, &mut moto] {
        helper.kill().and_then(|_| helper.wait()).expect("the helper stops");
    }
    took.sort();
    // Behind a poll, almost every call waits out the poll's 5 s; a DynamoDB call of moto's takes milliseconds.
    assert!(
        took[took.len() / 2] < Duration::from_secs(1),
        "DynamoDB calls waited behind the SQS long poll: {took:?}"
    );
}

#[test]
fn when_a_helper_of_the_local_stack_exits_should_say_which_and_stop_the_others() {
    let script = r#"
        . scripts/supervise.sh
        start long-runner sleep 30
        start quitter sh -c 'sleep 0.3; exit 3'
        watch_helpers
        echo "watch_helpers returned $?"
        stop_helpers
        kill -0 "${helper_pids[0]}" 2>/dev/null && echo "long-runner still runs" || echo "long-runner stopped"
    "#;
    let output = Command::new("bash")
        .current_dir(repo_root())
        .args(["-c", script])
        .output()
        .expect("bash runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        stderr.contains("quitter (pid ") && stderr.contains(") exited with status 3; stopping the rest."),
        "{stderr}"
    );
    assert!(stdout.contains("watch_helpers returned 3"), "{stdout}");
    assert!(stdout.contains("long-runner stopped"), "{stdout}");
}

#[test]
fn when_a_script_runs_a_cargo_binary_should_not_assume_where_the_target_directory_is() {
    // `make run` once ran target/debug/storeadmin, which is not there when CARGO_TARGET_DIR says otherwise.
    let mut offenders = Vec::new();
    let scripts = std::fs::read_dir(repo_root().join("scripts")).unwrap();
    let files = scripts.map(|e| e.unwrap().path()).chain([repo_root().join("Makefile")]);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            if line.contains("target/debug/") || line.contains("target/release/") {
                offenders.push(format!("{}:{}: {line}", file.display(), number + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "run binaries through cargo or $(TARGET_DIR): {offenders:#?}"
    );
}
