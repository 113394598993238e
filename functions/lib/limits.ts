/**
 * The gateway's limits the functions enforce before sending.
 */

/** Largest frame the gateway delivers to a client (256 KB, seed 002). */
export const MAX_PUSH_BYTES = 256 * 1024;
