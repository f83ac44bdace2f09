import { describe, expect, it, vi } from 'vitest';
import { endOnnxHelper, onnxHelperGate } from '../../src/registry/onnx-helper.js';

describe('endOnnxHelper', () => {
  const fakeHelper = () => ({ terminate: vi.fn(async () => 0), ref: vi.fn() });

  it('terminates an idle helper at once, and sets the stop flag first', () => {
    const gate = onnxHelperGate();
    const helper = fakeHelper();
    endOnnxHelper(helper, gate);
    expect(Atomics.load(gate, 1)).toBe(1);
    expect(helper.terminate).toHaveBeenCalledTimes(1);
  });

  it('waits while the helper is inside onnxruntime, keeping the process alive meanwhile', async () => {
    const gate = onnxHelperGate();
    Atomics.store(gate, 0, 1); // busy
    const helper = fakeHelper();
    endOnnxHelper(helper, gate);
    expect(helper.ref).toHaveBeenCalled();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(helper.terminate).not.toHaveBeenCalled();
    Atomics.store(gate, 0, 0);
    await vi.waitFor(() => expect(helper.terminate).toHaveBeenCalledTimes(1), { timeout: 200 });
  });
});
