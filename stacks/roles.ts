/**
 * The three functions of a WebSocket app, as the gateway's protocol names them, and the bundle the
 * stack deploys for each. The bundler (scripts/bundle.ts) produces what is declared here.
 */

/** The gateway invokes register on connect, transport for every frame, cleanup on close. */
export const ROLES = ['register', 'transport', 'cleanup'] as const;
export type Role = (typeof ROLES)[number];

/** The runtime the bundles target. */
export const RUNTIME = 'Nodejs18.15';

/** One built function. */
export interface BundleInfo {
  role: Role;
  /** Absolute path of the zip. */
  zipPath: string;
  /** Path relative to the project root. */
  relativePath: string;
  /** First 16 hex digits of the zip's SHA-256. */
  hash: string;
  bytes: number;
  indexBytes: number;
}

/** An app's three bundles. */
export type AppBundles = Record<Role, BundleInfo>;
