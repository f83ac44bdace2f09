import type { LiveModel, ModelVersion } from '@modelreg/core';

type Rows = Parameters<LiveModel['predict']>[0];
type Row = Record<string, unknown>;
export interface RowPrediction {
  prediction: unknown;
  version: ModelVersion | null;
}

/**
 * Gathers the single-row jobs that arrive within one turn of the event loop into one
 * `predictWithVersion` call (one model call per turn instead of one per message); each job still
 * gets its own answer. When the batch call fails, every row is predicted alone, so an error belongs
 * to the job that caused it and the others are answered.
 */
export class RowBatcher {
  private queue: Array<{ row: Row; resolve: (p: RowPrediction) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;

  constructor(
    private readonly live: LiveModel,
    private readonly maxBatch: number,
  ) {}

  predict(row: Row): Promise<RowPrediction> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    const one = (item: (typeof batch)[number]): void => {
      this.live
        .predictWithVersion([item.row] as Rows)
        .then(
          ({ predictions, version }) => item.resolve({ prediction: predictions[0], version }),
          item.reject,
        );
    };
    if (batch.length === 1) return one(batch[0]!);
    this.live.predictWithVersion(batch.map((b) => b.row) as Rows).then(
      ({ predictions, version }) =>
        batch.forEach((b, i) => b.resolve({ prediction: predictions[i], version })),
      () => batch.forEach(one),
    );
  }
}
