#!/usr/bin/env python3
"""The API Gateway of `make run`: template.yaml's HTTP API routes, in front of the functions that cargo lambda
watch runs.

Each request becomes the HTTP API (payload 2.0) event API Gateway would build for it and is handed to the
route's function through watch's Lambda invoke API; the function's answer goes back as the HTTP response. A
body that is not UTF-8 travels base64-encoded (`isBase64Encoded`), as API Gateway sends it, so the function
answers it as deployed (watch's own router answers such a body with a plain-text 500 before any function sees
it). A path no route takes is API Gateway's `404 {"message":"Not Found"}`; a function that fails is its
`500 {"message":"Internal Server Error"}`.

    local_gateway.py --port 9000 --invoke http://127.0.0.1:9001 [--template template.yaml]
"""
import argparse
import base64
import datetime
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import template as cfn  # noqa: E402  (the one reader of template.yaml)


def routes_of(template):
    """(method, path template, function binary) for every HttpApi event of every function."""
    return [(method, path, cfn.binary(template, logical))
            for logical, properties in cfn.resources(template, "AWS::Serverless::Function")
            for method, path in cfn.routes(properties)]


def match(routes, method, path):
    """API Gateway's choice: the route whose literal segments match most, left to right, a method route over
    ANY. Returns (route key, function, path parameters), or None."""
    segments = path.strip("/").split("/") if path.strip("/") else []
    best = None
    for route_method, template, function in routes:
        if route_method not in (method, "ANY"):
            continue
        parts = template.strip("/").split("/") if template.strip("/") else []
        if len(parts) != len(segments):
            continue
        parameters, rank = {}, []
        for part, segment in zip(parts, segments):
            if part.startswith("{") and part.endswith("}"):
                if not segment:
                    break
                parameters[part[1:-1]] = urllib.parse.unquote(segment)
                rank.append(0)
            elif part == segment:
                rank.append(1)
            else:
                break
        else:
            score = (rank, route_method != "ANY")
            if best is None or score > best[0]:
                best = (score, f"{route_method} {template}", function, parameters)
    return best and best[1:]


def event_of(request, route_key, parameters, body):
    """The payload 2.0 event of an HTTP request."""
    target = urllib.parse.urlsplit(request.path)
    headers = {}
    for name, value in request.headers.items():
        name = name.lower()
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query = {}
    for name, value in urllib.parse.parse_qsl(target.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": target.path,
        "rawQueryString": target.query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": headers.get("host", "localhost").split(".")[0],
            "http": {
                "method": request.command,
                "path": urllib.parse.unquote(target.path),
                "protocol": request.request_version,
                "sourceIp": request.client_address[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": datetime.datetime.now(datetime.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";") if c.strip()]
    if query:
        event["queryStringParameters"] = query
    if parameters:
        event["pathParameters"] = parameters
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def make_handler(routes, invoke_base):
    class Gateway(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002  (the base class's name)
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

        def answer(self, status, headers, body):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def gateway_error(self, status, message):
            self.answer(status, [("content-type", "application/json")], json.dumps({"message": message}, separators=(",", ":")).encode())

        def handle_any(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            found = match(routes, self.command, urllib.parse.urlsplit(self.path).path)
            if not found:
                return self.gateway_error(404, "Not Found")
            route_key, function, parameters = found
            invocation = urllib.request.Request(
                f"{invoke_base}/2015-03-31/functions/{function}/invocations",
                data=json.dumps(event_of(self, route_key, parameters, body)).encode(),
                headers={"content-type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(invocation, timeout=120) as response:
                    reply = json.loads(response.read() or b"null")
            except (urllib.error.URLError, OSError, ValueError) as error:
                self.log_message("invoking %s failed: %s", function, error)
                return self.gateway_error(500, "Internal Server Error")
            if not isinstance(reply, dict) or "statusCode" not in reply:
                self.log_message("%s failed: %s", function, reply)
                return self.gateway_error(500, "Internal Server Error")
            payload = reply.get("body") or ""
            payload = base64.b64decode(payload) if reply.get("isBase64Encoded") else payload.encode()
            headers = [(k, v) for k, v in (reply.get("headers") or {}).items() if k.lower() != "content-length"]
            for name, values in (reply.get("multiValueHeaders") or {}).items():
                headers += [(name, v) for v in values if (name, v) not in headers]
            headers += [("set-cookie", c) for c in reply.get("cookies") or []]
            self.answer(int(reply["statusCode"]), headers, payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = handle_any

    return Gateway


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--invoke", required=True, help="base URL of cargo lambda watch's invoke API")
    parser.add_argument("--template", default="template.yaml")
    args = parser.parse_args()
    routes = routes_of(cfn.load(args.template))
    server = ThreadingHTTPServer((args.host, args.port), make_handler(routes, args.invoke.rstrip("/")))
    print(f"local API gateway on http://{args.host}:{args.port}: {len(routes)} routes", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
