import type { InferenceSession } from 'onnxruntime-node';

/**
 * onnxruntime-node's native session, the object its `InferenceSession` wraps. `run` is synchronous:
 * it runs the model in the calling thread and returns the fetched outputs as tensors.
 */
export interface BindingSession {
  run(
    feeds: InferenceSession.FeedsType,
    fetches: Readonly<Record<string, null>>,
  ): Record<string, { readonly data: unknown } | undefined>;
  dispose(): void;
}

export interface OrtBinding {
  /**
   * A native session of `bytes`: throws what onnxruntime throws for a model it refuses. `null` when
   * the session does not describe its inputs and outputs as the binding modelreg knows does (the
   * session is then disposed).
   */
  load(
    bytes: Uint8Array,
    options: InferenceSession.SessionOptions,
    names: { input: string; outputs: readonly string[] },
  ): BindingSession | null;
}

interface NativeSession extends BindingSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  readonly inputMetadata: unknown;
  readonly outputMetadata: unknown;
}

const isFunction = (v: unknown): v is (...args: never[]) => unknown => typeof v === 'function';

const namesOf = (metadata: unknown): string[] | null =>
  Array.isArray(metadata) && metadata.every((m) => typeof (m as { name?: unknown } | null)?.name === 'string')
    ? metadata.map((m: { name: string }) => m.name)
    : null;

/**
 * Recognizes the module `onnxruntime-node/dist/binding` (`{ binding, initOrt }`) as the one of
 * onnxruntime-node 1.30, which `InferenceSession` runs on: a session class with `loadModel`, `run`
 * and `dispose`. Anything else is `null`, and modelreg uses the public `InferenceSession`.
 */
export function recognizeBinding(mod: unknown): OrtBinding | null {
  let Session: unknown;
  let initOrt: unknown;
  try {
    const m = ((mod as { default?: unknown } | null)?.default ?? mod) as {
      binding?: { InferenceSession?: unknown };
      initOrt?: unknown;
    } | null;
    Session = m?.binding?.InferenceSession;
    initOrt = m?.initOrt;
    if (!isFunction(initOrt) || !isFunction(Session)) return null;
    const proto = (Session as { prototype?: Record<string, unknown> }).prototype;
    if (!proto || !isFunction(proto.loadModel) || !isFunction(proto.run) || !isFunction(proto.dispose))
      return null;
  } catch {
    return null; // a module whose members throw when read is not the binding either
  }
  const SessionClass = Session as unknown as new () => NativeSession;
  return {
    load(bytes, options, names) {
      // What InferenceSession.create does before it loads: the process-wide onnxruntime set-up, once.
      (initOrt as () => void)();
      const session = new SessionClass();
      session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
      const inputs = namesOf(session.inputMetadata);
      const outputs = namesOf(session.outputMetadata);
      if (!inputs?.includes(names.input) || !names.outputs.every((o) => outputs?.includes(o))) {
        session.dispose();
        return null;
      }
      return session;
    },
  };
}

let binding: Promise<OrtBinding | null> | undefined;

/**
 * The native binding of onnxruntime-node, or `null` when it cannot be imported or is not the one
 * {@link recognizeBinding} knows. It is not a public entry point of the package: callers keep the
 * public `InferenceSession` as the fallback.
 */
export function loadOrtBinding(): Promise<OrtBinding | null> {
  binding ??= import('onnxruntime-node/dist/binding.js').then(recognizeBinding, () => null);
  return binding;
}
