#!/usr/bin/env python3
"""moto_server with one lock around each request.

moto's DynamoDB UpdateItem `ADD` is a read-modify-write in Python, not atomic across the threads of
moto_server: with 48 boto3 clients adding 1 concurrently on a loaded machine, 1919 of 1920
increments survived (tests/tools/README.md). Real DynamoDB applies each item write atomically. This
runs moto's own server application (the same one `moto_server` runs) on a threaded werkzeug
server, with a lock so each request is applied whole — connections and keep-alive stay concurrent.

Usage: moto_server_atomic.py -H 127.0.0.1 -p PORT [-c CERT.pem -k KEY.pem]
"""
import argparse
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("-c", "--ssl-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("-k", "--ssl-key", help="and this private key (PEM)")
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def atomic_app(environ, start_response):
        with lock:
            # Materialise the body inside the lock: moto does its work while producing it.
            return [b"".join(app(environ, start_response))]

    ssl_context = (args.ssl_cert, args.ssl_key) if args.ssl_cert else None
    run_simple(args.host, args.port, atomic_app, threaded=True, use_reloader=False,
               ssl_context=ssl_context)


if __name__ == "__main__":
    main()
