#!/usr/bin/env python3
"""moto server with every request handled atomically: the local AWS of `make run` and the tests.

Why not plain `moto_server`: moto's TransactWriteItems backs up the whole table before it starts and, when a
condition fails, restores that backup. Under moto's threaded server that undoes the writes other requests
made in between (lost events, resurrected records) — something DynamoDB never does. Holding one lock per
request makes each API call atomic, which is what DynamoDB guarantees; connections stay concurrent, so
client-side races (read, decide, conditional write) are still exercised.

    moto_server.py [-H 127.0.0.1] [-p 5000]
"""
import argparse
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app


def serialized(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        with lock:
            # Consume the response inside the lock: WSGI apps may do their work lazily while iterating.
            return list(app(environ, start_response))

    return handle


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialized(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
