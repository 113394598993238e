/**
 * The local apply's state: per resource, the arguments it was applied with and the attributes it
 * then had, as Terraform's state file keeps them. Kept in the local cloud's data folder so that the
 * next start diffs against it instead of creating everything afresh.
 */
import { CodedError } from '../coded-error';
import { readJsonFile, writePrivateJsonFile } from '../json-file';

export type Body = Record<string, any>;

/** One resource as last applied (and refreshed). */
export interface ResourceState {
  type: string;
  /** The resolved arguments: what the configuration set, as the provider last read them back. */
  args: Body;
  /** Which arguments the configuration set (the others are defaults or computed). */
  configKeys: string[];
  /** Everything a reference may read: ids and computed attributes, and the arguments. */
  attributes: Body;
}

export interface AppliedState {
  version: 1;
  stack: string;
  /** By address, in the order they were applied (dependencies first). */
  resources: Record<string, ResourceState>;
}

/** Thrown for a state file this version cannot use, naming it. */
export class AppliedStateError extends CodedError<'ERR_APPLIED_STATE'> {
  constructor(message: string) {
    super('ERR_APPLIED_STATE', message);
  }
}

export function emptyState(stack: string): AppliedState {
  return { version: 1, stack, resources: {} };
}

/** The stack's state, or an empty one when there is no file yet. */
export function readAppliedState(file: string | undefined, stack: string): AppliedState {
  if (!file) return emptyState(stack);
  const saved = readJsonFile<AppliedState>(file);
  if (!saved) return emptyState(stack);
  if (saved.version !== 1 || typeof saved.resources !== 'object' || saved.resources === null) {
    throw new AppliedStateError(`${file} is not an applied state this version knows; move it away to apply the stack afresh`);
  }
  if (saved.stack !== stack) throw new AppliedStateError(`${file} belongs to stack "${saved.stack}", not "${stack}"`);
  return saved;
}

export function writeAppliedState(file: string | undefined, state: AppliedState): void {
  if (file) writePrivateJsonFile(file, state);
}
