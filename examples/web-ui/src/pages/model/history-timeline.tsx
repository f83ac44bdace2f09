import type { HistoryEntry } from '../../api.js';
import { describeMove, fmtTime } from '../../format.js';

/** The append-only history of stage and alias moves, newest first. */
export function HistoryTimeline({ entries }: { entries: HistoryEntry[] }) {
  const newestFirst = [...entries].reverse();
  return (
    <ol className="timeline" data-testid="history" aria-label="Stage and alias moves, newest first">
      {newestFirst.map((e) => (
        <li key={e.id} className={`timeline-item timeline-${e.kind}`}>
          <time dateTime={new Date(e.time).toISOString()}>{fmtTime(e.time)}</time>
          <div className="timeline-what">{describeMove(e)}</div>
          <div className="muted small">
            by {e.actor || 'unknown'}
            {e.comment ? <> — “{e.comment}”</> : null}
          </div>
        </li>
      ))}
    </ol>
  );
}
