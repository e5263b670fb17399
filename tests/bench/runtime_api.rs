//! A local Lambda Runtime API for one function process: the real protocol (`GET
//! /2018-06-01/runtime/invocation/next`, then `POST …/invocation/{id}/response` or `…/error`), on loopback,
//! with the moment each request arrived. Blocking threads, so the timing is not at the mercy of a runtime.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the function asked of the Runtime API, and when.
#[derive(Debug)]
pub enum Seen {
    Next(Instant),
    Response(Instant, String),
    Error(Instant, String),
}

/// One answered invocation.
#[derive(Debug)]
pub struct Answer {
    pub handed_at: Instant,
    pub answered_at: Instant,
    pub body: String,
    pub failed: bool,
}

pub struct RuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    invocations: Sender<String>,
    seen: Receiver<Seen>,
}

const WAIT: Duration = Duration::from_secs(60);

impl RuntimeApi {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("bound").to_string();
        let (invocations, pending) = channel::<String>();
        let (report, seen) = channel();
        let pending = Arc::new(Mutex::new(pending));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (pending, report) = (pending.clone(), report.clone());
                std::thread::spawn(move || serve(stream, &pending, &report));
            }
        });
        RuntimeApi {
            address,
            invocations,
            seen,
        }
    }

    /// When the function first asked for an invocation: the end of its init.
    pub fn wait_next(&self) -> Instant {
        match self.seen.recv_timeout(WAIT) {
            Ok(Seen::Next(at)) => at,
            Ok(other) => panic!("expected the first `next`, got {other:?}"),
            Err(RecvTimeoutError::Timeout) => panic!("the function never asked for an invocation"),
            Err(RecvTimeoutError::Disconnected) => unreachable!("the stub lives as long as the process"),
        }
    }

    /// Hands `payload` to the function and waits for its answer.
    pub fn invoke(&self, payload: String) -> Answer {
        let handed_at = Instant::now();
        self.invocations.send(payload).expect("the stub is listening");
        loop {
            let seen = self
                .seen
                .recv_timeout(WAIT)
                .expect("the function answers within a minute");
            let failed = matches!(seen, Seen::Error(..));
            match seen {
                Seen::Next(_) => continue,
                Seen::Response(answered_at, body) | Seen::Error(answered_at, body) => {
                    return Answer {
                        handed_at,
                        answered_at,
                        body,
                        failed,
                    }
                }
            }
        }
    }
}

/// One keep-alive connection: requests in order until the client closes it.
fn serve(stream: TcpStream, pending: &Mutex<Receiver<String>>, report: &Sender<Seen>) {
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone().expect("a second handle");
    let mut reader = BufReader::new(stream);
    let mut request_id = 0u64;
    while let Some((method, path, body)) = read_request(&mut reader) {
        let at = Instant::now();
        let response = if method == "GET" && path.ends_with("/invocation/next") {
            let _ = report.send(Seen::Next(at));
            let Ok(payload) = pending.lock().expect("one waiter").recv() else {
                return;
            };
            request_id += 1;
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_millis()
                + 60_000;
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: bench-{request_id}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\
                 Content-Length: {}\r\n\r\n{payload}",
                payload.len()
            )
        } else {
            let body = String::from_utf8_lossy(&body).into_owned();
            let _ = report.send(if path.ends_with("/response") {
                Seen::Response(at, body)
            } else {
                Seen::Error(at, body)
            });
            "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n".to_owned()
        };
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Method, path and body of the next HTTP/1.1 request (`Content-Length` or chunked); `None` at the end.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some((method, path, body))
}
