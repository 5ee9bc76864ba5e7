"""A real HTTP server in a thread that speaks the chat-completions protocol with scripted
answers, and records every request it gets (for prompt assertions)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeLLM:
    """``replies``: each item is (status, content-or-body) served in order, the last repeated.

    A ``str`` content is wrapped in a chat-completion body; a ``dict`` is sent as the body.
    ``refuse_schema`` makes the server answer 400 to requests with ``response_format``.
    """

    def __init__(self, replies: list[tuple[int, Any]], *, refuse_schema: bool = False) -> None:
        self.replies = replies
        self.refuse_schema = refuse_schema
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.url = ""
        self.served = 0

    def reply(self, body: dict[str, Any]) -> tuple[int, bytes]:
        self.requests.append(body)
        if self.refuse_schema and "response_format" in body:
            return 400, b'{"error": {"message": "response_format is not supported"}}'
        status, content = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        if isinstance(content, str):
            payload: Any = {"choices": [{"message": {"role": "assistant", "content": content}}]}
        else:
            payload = content
        return status, json.dumps(payload).encode()


@contextmanager
def serve(fake: FakeLLM) -> Iterator[FakeLLM]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.headers.append(dict(self.headers))
            status, data = fake.reply(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
