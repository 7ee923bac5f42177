// req: { method, path, query, headers, body, rawBody }. body is parsed JSON when
// the Content-Type says JSON, text for text types, else a Buffer.
// Return { status, headers, body } (body: a string, a Buffer or any value sent
// as JSON), or just the body.
//
// GET /openapi.json answers this function's OpenAPI document: with the
// annotation com.openfaas.openapi=/openapi.json (the UI's New function page
// sets it for this template), the function's page in the UI lists its
// operations with a try-it form. Keep it in step with what handle() does.
const OPENAPI = {
  openapi: '3.0.3',
  info: { title: 'Hello (node template)', version: '1.0.0' },
  paths: {
    '/': {
      post: {
        summary: 'Greets, and echoes the body it was sent',
        requestBody: { content: { 'application/json': { schema: { type: 'object' }, example: { name: 'Ada' } }, 'text/plain': { schema: { type: 'string' } } } },
        responses: { 200: { description: 'the greeting', content: { 'application/json': { schema: { type: 'object', properties: { message: { type: 'string' }, method: { type: 'string' }, received: {} } } } } } },
      },
    },
  },
};

export default async function handle(req) {
  if (req.method === 'GET' && req.path === '/openapi.json') return { status: 200, body: OPENAPI };
  return {
    status: 200,
    body: { message: `Hello from Node.js ${process.version}`, method: req.method, received: req.body ?? null },
  };
}
