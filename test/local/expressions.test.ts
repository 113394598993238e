import { describe, expect, it } from 'vitest';
import { type Reference, UnsupportedExpressionError, parseReference, referencesIn, resolveValue } from '../../local/apply/expressions';

const WHERE = 'tencentcloud_scf_function.register';

/** Values by reference, as the apply's lookup would give them. */
function lookup(ref: Reference): unknown {
  if (ref.kind === 'var') return ({ a: 'A', n: 5 } as Record<string, unknown>)[ref.name];
  return `<${ref.kind === 'data' ? 'data.' : ''}${ref.type}.${ref.name}.${ref.attribute}>`;
}

/** The error a call throws, so its code and message can both be checked. */
function thrown(call: () => unknown): UnsupportedExpressionError {
  try {
    call();
  } catch (err) {
    expect(err).toBeInstanceOf(UnsupportedExpressionError);
    return err as UnsupportedExpressionError;
  }
  throw new Error('expected the call to throw UnsupportedExpressionError, it returned');
}

describe('local apply expressions', () => {
  it('parses resource, data source and variable references', () => {
    expect(parseReference('tencentcloud_cam_role.fn.id', WHERE)).toEqual({ kind: 'resource', type: 'tencentcloud_cam_role', name: 'fn', attribute: 'id' });
    expect(parseReference(' data.tencentcloud_user_info.me.app_id ', WHERE)).toEqual({
      kind: 'data',
      type: 'tencentcloud_user_info',
      name: 'me',
      attribute: 'app_id',
    });
    expect(parseReference('var.admission_secret', WHERE)).toEqual({ kind: 'var', name: 'admission_secret' });
    const err = thrown(() => parseReference('upper(var.a)', WHERE));
    expect(err.code).toBe('ERR_UNSUPPORTED_EXPRESSION');
    expect(err.message).toBe(`local apply cannot evaluate \${upper(var.a)} in ${WHERE}: only resource, data source and variable references are supported`);
  });

  it('finds every reference in nested values, skipping comments, and resolves them', () => {
    const value = { '//': '${not.a.reference}', list: ['${var.a}', { deep: 'x-${tencentcloud_cos_bucket.b.id}-y' }], n: '${var.n}' };
    expect(referencesIn(value, WHERE)).toEqual([
      { kind: 'var', name: 'a' },
      { kind: 'resource', type: 'tencentcloud_cos_bucket', name: 'b', attribute: 'id' },
      { kind: 'var', name: 'n' },
    ]);
    // a string that is exactly one reference keeps the value's type; inside text it becomes text
    expect(resolveValue(value, lookup, WHERE)).toEqual({ list: ['A', { deep: 'x-<tencentcloud_cos_bucket.b.id>-y' }], n: 5 });
    expect(resolveValue('n=${var.n}', lookup, WHERE)).toBe('n=5');
  });

  it('keeps $${ and %%{ as the literal ${ and %{, as Terraform renders them', () => {
    expect(referencesIn('cost $${var.a} and ${var.a}', WHERE)).toEqual([{ kind: 'var', name: 'a' }]);
    expect(resolveValue('cost $${var.a} and ${var.a}', lookup, WHERE)).toBe('cost ${var.a} and A');
    expect(resolveValue('$${var.n}', lookup, WHERE)).toBe('${var.n}');
    expect(resolveValue('100%%{ if }', lookup, WHERE)).toBe('100%{ if }');
    // `$$` without a brace is two dollars
    expect(resolveValue('$$ ${var.a}', lookup, WHERE)).toBe('$$ A');
  });

  it('refuses a function whose string argument holds a } by its whole name, not the part before the }', () => {
    for (const expression of ['lookup(var.m, "}")', 'var.a == "}" ? "x" : "y"', 'format("%s}", "${var.a}")']) {
      const err = thrown(() => referencesIn({ arg: `before \${${expression}} after` }, WHERE));
      expect(err.expression).toBe(expression);
      expect(err.message).toContain(`cannot evaluate \${${expression}} in ${WHERE}`);
    }
  });

  it('ends a sequence at its own brace, counting nested braces', () => {
    const err = thrown(() => resolveValue('${jsonencode({ a = { b = var.a } })}', lookup, WHERE));
    expect(err.expression).toBe('jsonencode({ a = { b = var.a } })');
    // braces in the literal text around references are text
    expect(resolveValue('{${var.a}}-{x}', lookup, WHERE)).toBe('{A}-{x}');
  });

  it('refuses template directives and unclosed sequences with the same code', () => {
    const directive = thrown(() => referencesIn('%{ if var.a != "" }yes%{ endif }', WHERE));
    expect(directive.code).toBe('ERR_UNSUPPORTED_EXPRESSION');
    expect(directive.message).toContain(`cannot evaluate %{if var.a != ""} in ${WHERE}: template directives are not supported`);
    const unclosed = thrown(() => resolveValue('x-${var.a', lookup, WHERE));
    expect(unclosed.code).toBe('ERR_UNSUPPORTED_EXPRESSION');
    expect(unclosed.message).toContain('"x-${var.a" in tencentcloud_scf_function.register: a ${ or %{ in it is never closed');
  });
});
