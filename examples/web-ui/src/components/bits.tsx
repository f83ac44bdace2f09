import type { ReactNode } from 'react';

/** A stage as a coloured badge (the colour is never the only signal: the name is written). */
export function StageBadge({ stage }: { stage: string }) {
  const known = ['none', 'staging', 'production', 'archived'].includes(stage) ? stage : 'other';
  return <span className={`badge badge-${known}`}>{stage}</span>;
}

export function AliasChip({ alias, children }: { alias: string; children?: ReactNode }) {
  return (
    <span className="chip">
      @{alias}
      {children}
    </span>
  );
}

/** A table that scrolls sideways on narrow screens instead of overflowing the page. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
