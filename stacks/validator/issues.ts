/** What the validator reports: one issue per problem, with a stable code and a path into the document. */

/** One problem: where it is (a path into the document), a stable code, and what is wrong. */
export interface ValidationIssue {
  /** E.g. `resource.tencentcloud_scf_function.register.mem_size`; `[i]` where the JSON has an array. */
  path: string;
  /** One of {@link IssueCode}. */
  code: string;
  message: string;
}

/** Every `code` an issue may carry. */
export const IssueCode = {
  UNKNOWN_RESOURCE_TYPE: 'UNKNOWN_RESOURCE_TYPE',
  UNKNOWN_DATA_SOURCE: 'UNKNOWN_DATA_SOURCE',
  UNKNOWN_ATTRIBUTE: 'UNKNOWN_ATTRIBUTE',
  UNKNOWN_BLOCK: 'UNKNOWN_BLOCK',
  COMPUTED_ONLY: 'COMPUTED_ONLY',
  MISSING_REQUIRED: 'MISSING_REQUIRED',
  TOO_FEW_ITEMS: 'TOO_FEW_ITEMS',
  TOO_MANY_ITEMS: 'TOO_MANY_ITEMS',
  WRONG_TYPE: 'WRONG_TYPE',
  BAD_NESTING: 'BAD_NESTING',
  /** A value outside a fixed set, e.g. a provisioner's `when`. */
  INVALID_VALUE: 'INVALID_VALUE',
  /** An unterminated `${` or `%{`. */
  BAD_TEMPLATE: 'BAD_TEMPLATE',
  UNKNOWN_REFERENCE: 'UNKNOWN_REFERENCE',
  /** A reference where Terraform takes none of its kind, e.g. an attribute in `depends_on`. */
  BAD_REFERENCE: 'BAD_REFERENCE',
  /** A provider configuration that is not declared, or a provider the schema does not describe. */
  UNKNOWN_PROVIDER: 'UNKNOWN_PROVIDER',
  /** Resources of a provider that has no provider block. */
  MISSING_PROVIDER: 'MISSING_PROVIDER',
  WRONG_PROVIDER_SOURCE: 'WRONG_PROVIDER_SOURCE',
  /** The document pins a provider version other than the one the schema describes. */
  PROVIDER_VERSION_MISMATCH: 'PROVIDER_VERSION_MISMATCH',
  DUPLICATE_DECLARATION: 'DUPLICATE_DECLARATION',
  CONFLICTING_META_ARGUMENTS: 'CONFLICTING_META_ARGUMENTS',
} as const;

/** The path of issues about the document as a whole. */
export const DOCUMENT_PATH = '(document)';

/** One issue on one line: `CODE  path  message`. */
export function formatIssue(issue: ValidationIssue): string {
  return `${issue.code}  ${issue.path}  ${issue.message}`;
}
