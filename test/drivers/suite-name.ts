/** The start of every compliance suite's name: how the compliance reporter finds them in a run. */
export const COMPLIANCE_SUITE_PREFIX = 'driver compliance: ';
