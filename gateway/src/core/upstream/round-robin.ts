// Round-robin choice over a function's addresses. The list is replaced as
// instances come and go; the cursor survives replacement so load keeps spreading.
export class RoundRobin {
  private cursor = 0;

  constructor(private addresses: readonly string[] = []) {}

  get size(): number {
    return this.addresses.length;
  }

  replace(addresses: readonly string[]): void {
    this.addresses = addresses;
  }

  /** The next address that `usable` accepts; undefined when none does. */
  next(usable: (address: string) => boolean = () => true): string | undefined {
    const count = this.addresses.length;
    for (let i = 0; i < count; i++) {
      const address = this.addresses[this.cursor++ % count]!;
      if (this.cursor >= Number.MAX_SAFE_INTEGER) this.cursor = 0;
      if (usable(address)) return address;
    }
    return undefined;
  }

  /**
   * The address with the lowest score, looking from the cursor on (so ties
   * keep rotating); `score` answers undefined for an address that cannot be
   * used. Undefined when none can.
   */
  best(score: (address: string) => number | undefined): string | undefined {
    const count = this.addresses.length;
    let chosen = -1;
    let lowest = Infinity;
    for (let i = 0; i < count; i++) {
      const index = (this.cursor + i) % count;
      const value = score(this.addresses[index]!);
      if (value !== undefined && value < lowest) {
        lowest = value;
        chosen = index;
        if (value === 0) break;
      }
    }
    if (chosen < 0) return undefined;
    this.cursor = (chosen + 1) % count;
    return this.addresses[chosen];
  }
}
