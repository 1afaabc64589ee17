"""What the `token` section's auth provider costs per request, against a static MLFLOW_TRACKING_TOKEN.

Requests per second from one requests.Session to a keep-alive HTTP server on
127.0.0.1 (as MLflow's client sends them), with ``Authorization`` set once
(a static token) or by layered-mlflow's provider on every request (token.file,
token.command); then the provider's own cost per call, without the network.

    python benchmarks/auth_provider.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import requests

from layered_mlflow.integrations.auth_provider import LayeredMlflowAuthProvider
from layered_mlflow.secrets import tokens


class _Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else the body waits for a delayed ACK: 40 ms a request, whatever the auth

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


def _rate(count: int, send: Callable[[], object]) -> float:
    send()  # warm: the connection is open
    begun = time.perf_counter()
    for _ in range(count):
        send()
    return count / (time.perf_counter() - begun)


def _provider(variables: dict[str, str]) -> LayeredMlflowAuthProvider:
    for name in (tokens.FILE, tokens.COMMAND, tokens.TTL):
        os.environ.pop(name, None)
    os.environ.update(variables)
    return LayeredMlflowAuthProvider()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    count = parser.parse_args().requests
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/2.0/mlflow/experiments/search"
    folder = tempfile.mkdtemp()
    token_file = os.path.join(folder, "token")
    with open(token_file, "w") as stream:
        stream.write("a-token\n")
    argv = json.dumps([sys.executable, "-c", "print('a-token')"])
    providers = {
        "token.file": _provider({tokens.FILE: token_file}),
        "token.command": _provider({tokens.COMMAND: argv, tokens.TTL: "300"}),
    }
    session = requests.Session()
    print(f"{count} requests each, one keep-alive connection to 127.0.0.1; Python {sys.version.split()[0]}")
    static = _rate(count, lambda: session.get(url, headers={"Authorization": "Bearer a-token"}))
    print(f"{'static MLFLOW_TRACKING_TOKEN':30} {static:8.0f} requests/s")
    for name, provider in providers.items():
        os.environ.update({tokens.FILE: token_file} if name == "token.file" else {tokens.COMMAND: argv})
        rate = _rate(count, lambda p=provider: session.get(url, auth=p.get_auth()))  # type: ignore[misc]
        print(f"{'provider, ' + name:30} {rate:8.0f} requests/s  ({rate / static:.2f}x)")
        prepared = requests.Request("GET", url).prepare()
        calls = 100_000
        begun = time.perf_counter()
        for _ in range(calls):
            prepared.hooks = {"response": []}  # a fresh request's: the provider adds its 401 hook to each
            provider.get_auth()(prepared)
        print(f"{'  its own cost per request':30} {(time.perf_counter() - begun) / calls * 1e6:8.2f} µs")
        os.environ.pop(tokens.FILE, None)
        os.environ.pop(tokens.COMMAND, None)
    server.shutdown()


if __name__ == "__main__":
    main()
