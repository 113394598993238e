/**
 * The post-deploy step's inputs that ModifyApi needs and DescribeApi does not return: read from
 * the stack hook's environment, or a flag.
 */
import { describe, expect, it } from 'vitest';
import { HookEnv } from '../../stacks/post-deploy-contract';
import { readInput, usage } from '../../scripts/post-deploy/inputs';

const env = {
  CHAT_STACK: 'chat-dev-gz',
  CHAT_REGION: 'ap-guangzhou',
  CHAT_SERVICE_ID: 'service-1',
  CHAT_API_ID: 'api-1',
  CHAT_REGISTER_FUNCTION: 'r',
  CHAT_TRANSPORT_FUNCTION: 't',
  CHAT_CLEANUP_FUNCTION: 'c',
};

describe('post-deploy inputs for ModifyApi', () => {
  it('reads ServiceScfFunctionType from CHAT_SCF_FUNCTION_TYPE, the variable the stack sets, EVENT when unset', () => {
    expect(HookEnv.SCF_FUNCTION_TYPE).toBe('CHAT_SCF_FUNCTION_TYPE');
    expect(readInput([], env).scfFunctionType).toBe('EVENT');
    expect(readInput([], { ...env, CHAT_SCF_FUNCTION_TYPE: 'HTTP' }).scfFunctionType).toBe('HTTP');
    expect(readInput(['--scf-function-type', 'HTTP'], { ...env, CHAT_SCF_FUNCTION_TYPE: 'EVENT' }).scfFunctionType).toBe('HTTP');
    expect(usage()).toContain('--scf-function-type');
  });
});
