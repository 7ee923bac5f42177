// OpenFaaS's registryAuth field: base64 of "user:password".

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** The credentials, or undefined when the value is not base64 of "user:password". */
export function decodeRegistryAuth(value: string): RegistryCredentials | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
