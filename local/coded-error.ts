/**
 * The local cloud's error base: {@link CodedError} from `lib/errors.ts`, shared with `stacks/` and
 * `scripts/`, re-exported here so the local services import it from their own floor.
 */
export { CodedError, describeError } from '../lib/errors';
