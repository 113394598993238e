/**
 * A Cloud API product as the server routes to it: an API version and the actions it serves.
 */
import type { Params } from './params';

/** What an action answers inside `Response`, besides the `RequestId` the server adds. */
export type ActionResult = Record<string, unknown>;

/** Serves one action; throws a {@link CloudApiError} (or an error with a Cloud API `code`) to answer an error. */
export type ActionHandler = (params: Params) => ActionResult | Promise<ActionResult>;

export interface Product {
  /** The product's name, e.g. `apigateway`: for messages only (the SDK signs for `127` when pointed at an IP). */
  name: string;
  /** X-TC-Version, e.g. `2018-08-08`. */
  version: string;
  actions: Readonly<Record<string, ActionHandler>>;
}
