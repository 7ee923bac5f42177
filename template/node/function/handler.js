// req: { method, path, query, headers, body, rawBody }. body is parsed JSON when
// the Content-Type says JSON, text for text types, else a Buffer.
// Return { status, headers, body } (body: a string, a Buffer or any value sent
// as JSON), or just the body.
export default async function handle(req) {
  return {
    status: 200,
    body: { message: `Hello from Node.js ${process.version}`, method: req.method, received: req.body ?? null },
  };
}
