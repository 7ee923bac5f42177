// What the gateway (towards function tasks) and the watchdog's HTTP mode
// (towards the function process) share as HTTP relays through undici. Both
// bundle it from source.
export { forwardableHeaders } from './headers.js';
export { RequestBody } from './request-body.js';
export { relayHandler, ResponseSink, type RelayEvents, type RelayHeaders, type RelaySink } from './relay.js';
