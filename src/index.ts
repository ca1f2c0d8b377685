/** hearsay's public API: the sans-I/O protocol core and the simulator that drives it. */
export * from './core/index.js';
export * from './sim/index.js';
