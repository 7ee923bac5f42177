// How clients name a function: "<name>" (the default namespace) or
// "<name>.<namespace>" (what OpenFaaS clients send, e.g. echo.openfaas-fn),
// and how the gateway names one in metrics, alerts and logs: the bare name in
// the default namespace (the 2017 contract: func_echoit), "name.namespace"
// in the others. Function and namespace names hold no dot.
import type { FunctionRef } from './types.js';

/** A namespace name: one lower-case DNS label (as OpenFaaS and Kubernetes have them). */
export const NAMESPACE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseFunctionName(text: string, defaultNamespace: string): FunctionRef {
  const dot = text.lastIndexOf('.');
  if (dot <= 0 || dot === text.length - 1) return { name: text, namespace: defaultNamespace };
  return { name: text.slice(0, dot), namespace: text.slice(dot + 1) };
}

export function qualifiedName(ref: FunctionRef, defaultNamespace: string): string {
  return ref.namespace === defaultNamespace ? ref.name : `${ref.name}.${ref.namespace}`;
}
