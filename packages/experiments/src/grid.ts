/** The seeds a cluster size gets: the biggest simulations are the costliest, so they get fewer. */
export function seedsFor(seeds: readonly number[], nodes: number): number[] {
  if (nodes >= 10_000) return seeds.slice(0, 1);
  if (nodes >= 3000) return seeds.slice(0, 2);
  return [...seeds];
}

/**
 * Rough wall-time estimates (s) of a simulation, for the progress bar's ETA and to start the
 * longest first. Measured on this project's simulator: a SWIM node-second costs ~0.13 ms; a
 * heartbeat table entry merged ~1 µs (N² × M entries per period).
 */
export function swimCost(nodes: number, virtualMs: number): number {
  return 1.3e-7 * nodes * virtualMs + 6e-4 * nodes;
}

export function heartbeatCost(nodes: number, fanout: number, periods: number): number {
  return 1.1e-6 * nodes * nodes * fanout * periods + 6e-4 * nodes;
}
