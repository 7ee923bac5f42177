"""The python3 template's server: each request becomes handle(req) of
function/handler.py; the watchdog starts this once (mode=http) and proxies to
it. `python3 index.py --check` only imports the handler (the build runs it)."""
import json
import os
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from function import handler  # noqa: E402

if not callable(getattr(handler, "handle", None)):
    sys.exit("function/handler.py must define handle(req)")
if "--check" in sys.argv:
    print("function/handler.py imports and defines handle(req)")
    sys.exit(0)

TEXT_TYPES = ("text/", "application/x-www-form-urlencoded", "application/xml")


def parse_body(raw, content_type):
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return json.loads(raw.decode("utf-8")) if raw else None
    if kind == "" or kind.startswith(TEXT_TYPES) or kind.endswith("+xml"):
        return raw.decode("utf-8", errors="replace")
    return raw


def to_answer(result):
    """The handler's value as (status, headers, body bytes)."""
    if isinstance(result, dict) and any(k in result for k in ("status", "statusCode", "headers", "body")):
        status = result.get("status", result.get("statusCode", 200))
        headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        body = result.get("body")
    else:
        status, headers, body = 200, {}, result
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise TypeError(f"the handler returned status {status!r}: expected a whole number from 100 to 599")
    if body is None:
        data = b""
    elif isinstance(body, (bytes, bytearray)):
        data = bytes(body)
        headers.setdefault("content-type", "application/octet-stream")
    elif isinstance(body, str):
        data = body.encode("utf-8")
        headers.setdefault("content-type", "text/plain; charset=utf-8")
    else:
        data = json.dumps(body).encode("utf-8")
        headers.setdefault("content-type", "application/json")
    return status, headers, data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, headers, data):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = parse_body(raw, headers.get("content-type", ""))
        except ValueError as error:
            return self.answer(400, {"content-type": "text/plain; charset=utf-8"}, f"the body is not valid JSON: {error}\n".encode())
        req = SimpleNamespace(method=self.command, path=url.path, query=dict(parse_qsl(url.query)), headers=headers, body=body, raw_body=raw)
        try:
            status, out_headers, data = to_answer(handler.handle(req))
        except Exception as error:  # the handler's own failure: 500 with its message, the trace in the log
            traceback.print_exc()
            return self.answer(500, {"content-type": "text/plain; charset=utf-8"}, f"the handler failed: {error}\n".encode())
        self.answer(status, out_headers, data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    def log_message(self, format, *args):  # the watchdog logs requests (write_debug)
        pass


if __name__ == "__main__":
    upstream = urlsplit(os.environ.get("upstream_url", "http://127.0.0.1:5000"))
    server = ThreadingHTTPServer((upstream.hostname or "127.0.0.1", upstream.port or 5000), Handler)
    server.daemon_threads = True
    server.serve_forever()
