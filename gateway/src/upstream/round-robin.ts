// Round-robin choice over a function's task addresses. The list is replaced
// as tasks come and go; the cursor survives replacement so load keeps spreading.
export class RoundRobin {
  private cursor = 0;

  constructor(private addresses: readonly string[] = []) {}

  get size(): number {
    return this.addresses.length;
  }

  replace(addresses: readonly string[]): void {
    this.addresses = addresses;
  }

  /** Drops one address (it refused a connection) until the next replace. */
  remove(address: string): void {
    this.addresses = this.addresses.filter((a) => a !== address);
  }

  /** The next address, skipping `avoid` when another one exists; undefined when empty. */
  next(avoid?: string): string | undefined {
    const count = this.addresses.length;
    if (count === 0) return undefined;
    for (let i = 0; i < count; i++) {
      const address = this.addresses[this.cursor++ % count]!;
      if (this.cursor >= Number.MAX_SAFE_INTEGER) this.cursor = 0;
      if (address !== avoid || count === 1) return address;
    }
    return undefined;
  }
}
