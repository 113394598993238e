/**
 * Terraform's plan, for one resource at a time: compares what the configuration now asks for with
 * the (refreshed) state and decides, as Terraform and the provider would, whether to create,
 * update in place, replace or leave it. Values that only an apply can tell (the id of a resource
 * being created) are {@link UNKNOWN}, and an unknown value always counts as a change.
 */
import { CodedError } from '../coded-error';
import { FORCE_NEW, META_ARGUMENTS, REFUSED_CHANGES } from './provider-rules';
import type { Body, ResourceState } from './state';

/** Stands for a value known after apply; inside a template it makes the whole string unknown. */
export const UNKNOWN = '\u0000(known after apply)\u0000';

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'no-op';

export interface PlannedChange {
  address: string;
  type: string;
  action: Action;
  /** Why, one entry per argument or trigger. */
  reasons: string[];
}

/** Thrown for a change the provider refuses, naming the resource and argument. */
export class RefusedChangeError extends CodedError<'ERR_REFUSED_CHANGE'> {
  constructor(message: string) {
    super('ERR_REFUSED_CHANGE', message);
  }
}

export function containsUnknown(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(UNKNOWN);
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === 'object') return Object.values(value).some(containsUnknown);
  return false;
}

/** Deep equality of JSON values; an unknown value equals nothing. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (containsUnknown(a) || containsUnknown(b)) return false;
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Body).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}

/** A resource body without its meta-arguments: what the provider receives. */
export function argumentsOf(body: Body): Body {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !META_ARGUMENTS.has(key)));
}

/** Arguments whose wanted value differs from the state's, including ones the configuration dropped. */
export function changedArguments(wanted: Body, prior: ResourceState): string[] {
  const keys = new Set([...Object.keys(wanted), ...prior.configKeys]);
  return [...keys].filter((key) => !(key in wanted) || !sameValue(wanted[key], prior.args[key])).sort();
}

export interface PlanInput {
  address: string;
  type: string;
  /** The resolved arguments, {@link UNKNOWN} where a value waits for an apply. */
  wanted: Body;
  /** Its `lifecycle.replace_triggered_by` entries, as written. */
  replaceTriggeredBy: string[];
  /** Arguments whose configured value comes from a sensitive source (variables): never printed. */
  sensitive: ReadonlySet<string>;
  prior: ResourceState | undefined;
  /** What is already planned for the resources before it. */
  planned: ReadonlyMap<string, PlannedChange>;
}

/** Plans one resource. @throws RefusedChangeError for a change the provider's Update refuses. */
export function planResource(input: PlanInput): PlannedChange {
  const { address, type, wanted, prior } = input;
  const change = (action: Action, reasons: string[]): PlannedChange => ({ address, type, action, reasons });
  if (!prior) return change('create', []);

  if (type === 'terraform_data') {
    const reasons: string[] = [];
    const before = (prior.args.triggers_replace ?? {}) as Body;
    const after = (wanted.triggers_replace ?? {}) as Body;
    if (!sameValue(after, before)) {
      const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
      if (isObject(after) && isObject(before)) {
        for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
          if (!sameValue(after[key], before[key]))
            reasons.push(
              `triggers_replace.${key}: ${shown(before[key], input.sensitive.has('triggers_replace'))} -> ${shown(after[key], input.sensitive.has('triggers_replace'))}`,
            );
        }
      } else reasons.push('triggers_replace changed');
    }
    for (const target of input.replaceTriggeredBy) {
      const upstream = input.planned.get(target.split('.').slice(0, 2).join('.'));
      if (upstream && upstream.action !== 'no-op')
        reasons.push(`replace_triggered_by ${target}, which is planned to ${upstream.action === 'update' ? 'update in place' : upstream.action}`);
    }
    if (reasons.length) return change('replace', reasons);
    return sameValue(wanted.input, prior.args.input) ? change('no-op', []) : change('update', ['input']);
  }

  const changed = changedArguments(wanted, prior);
  const refused = changed.filter((key) => REFUSED_CHANGES[type]?.[key]);
  if (refused.length) throw new RefusedChangeError(`${address}: ${refused.map((key) => REFUSED_CHANGES[type]![key]).join('; ')}`);
  const describe = (key: string) =>
    `${key}: ${shown(prior.args[key], input.sensitive.has(key))} -> ${key in wanted ? shown(wanted[key], input.sensitive.has(key)) : '(removed)'}`;
  const forced = changed.filter((key) => FORCE_NEW[type]?.includes(key));
  if (forced.length)
    return change(
      'replace',
      forced.map((key) => `${describe(key)} forces replacement`),
    );
  return changed.length ? change('update', changed.map(describe)) : change('no-op', []);
}

/** A value for a log line: short ones in full, long ones cut, sensitive ones hidden. */
function shown(value: unknown, sensitive: boolean): string {
  if (sensitive) return '(sensitive)';
  if (value === undefined) return '(none)';
  if (containsUnknown(value)) return '(known after apply)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
