/**
 * The three functions of a WebSocket app, as the gateway's protocol names them, and the bundle the
 * stack deploys for each. The bundler (scripts/bundle.ts) produces what is declared here.
 */

/** The gateway invokes register on connect, transport for every frame, cleanup on close. */
export const ROLES = ['register', 'transport', 'cleanup'] as const;
export type Role = (typeof ROLES)[number];

/** The runtime the bundles target. */
export const RUNTIME = 'Nodejs18.15';

/** What a bundle is for: one of the three event functions, or the web function (web mode). */
export type BundleRole = Role | 'web';

/** One built function. */
export interface BundleInfo {
  role: BundleRole;
  /** Absolute path of the zip. */
  zipPath: string;
  /** Path relative to the project root. */
  relativePath: string;
  /** First 16 hex digits of the zip's SHA-256. */
  hash: string;
  bytes: number;
  indexBytes: number;
}

/**
 * An app's bundles: the three event functions, and the web function (`web-<hash>.zip`: `index.js`
 * starting the app's WebSocket server, and an executable `scf_bootstrap`) when it was built.
 */
export type AppBundles = Record<Role, BundleInfo> & { web?: BundleInfo };
