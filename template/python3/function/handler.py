import platform


def handle(req):
    """req.method, req.path, req.query, req.headers (lower-case names), req.body
    (parsed JSON when the Content-Type says JSON, text for text types, else
    bytes) and req.raw_body. Return {"status", "headers", "body"} (body: str,
    bytes or any value sent as JSON), or just the body."""
    return {
        "status": 200,
        "body": {"message": f"Hello from Python {platform.python_version()}", "method": req.method, "received": req.body},
    }
