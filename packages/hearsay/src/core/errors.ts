/** One family of named errors, each saying what was wrong and what to do about it. */
export class HearsayError extends Error {
  override name = 'HearsayError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A configuration value is missing, of the wrong type or out of range. */
export class ConfigError extends HearsayError {
  override name = 'ConfigError';
}

/** An option or argument the node cannot use: an unknown option, a value of the wrong type, an address, name, key, tag set or query it cannot send. */
export class OptionError extends HearsayError {
  /** `'OptionError'`, as the error prints. */
  override name = 'OptionError';
}
