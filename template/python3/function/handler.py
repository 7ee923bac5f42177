import platform

# GET /openapi.json answers this function's OpenAPI document: with the
# annotation com.openfaas.openapi=/openapi.json (the UI's New function page
# sets it for this template), the function's page in the UI lists its
# operations with a try-it form. Keep it in step with what handle() does.
OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "Hello (python3 template)", "version": "1.0.0"},
    "paths": {
        "/": {
            "post": {
                "summary": "Greets, and echoes the body it was sent",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}, "example": {"name": "Ada"}}, "text/plain": {"schema": {"type": "string"}}}},
                "responses": {"200": {"description": "the greeting", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }
        }
    },
}


def handle(req):
    """req.method, req.path, req.query, req.headers (lower-case names), req.body
    (parsed JSON when the Content-Type says JSON, text for text types, else
    bytes) and req.raw_body. Return {"status", "headers", "body"} (body: str,
    bytes or any value sent as JSON), or just the body."""
    if req.method == "GET" and req.path == "/openapi.json":
        return {"status": 200, "body": OPENAPI}
    return {
        "status": 200,
        "body": {"message": f"Hello from Python {platform.python_version()}", "method": req.method, "received": req.body},
    }
