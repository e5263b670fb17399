#!/usr/bin/env python3
"""A stand-in for SendGrid's v3 mail send API for `make run`: logs each request it gets (the key masked)
and answers 202 as SendGrid does, so the notification jobs' email can be seen without sending any.

    sendgrid_receiver.py --port 5600 --log .local/sendgrid.log
"""
import argparse
import json
import sys
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                shown = json.loads(body)
            except ValueError:
                shown = body.decode("utf-8", "replace")
            entry = {"at": datetime.now().isoformat(timespec="seconds"), "path": self.path,
                     "authorization": "Bearer ***" if self.headers.get("authorization") else None, "body": shown}
            with open(args.log, "a") as log:
                log.write(json.dumps(entry, indent=2) + "\n")
            self.send_response(202 if self.path == "/v3/mail/send" else 404)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
