import { MlflowError } from './errors.js';

/**
 * MLflow's search filter grammar (the `filter` of runs/search, experiments/search,
 * registered-models/search and model-versions/search): clauses joined by `AND`, each
 * `<entity>.<key> <comparator> <value>`. This module only parses; `run-search.ts` and
 * `registry-search.ts` map the clauses onto modelreg's typed search.
 *
 *   filter     := clause ( AND clause )*
 *   clause     := identifier comparator value
 *   identifier := [ entity '.' ] key            entity: metrics|metric|params|param|tags|tag|attributes|attribute|attr|run
 *   key        := word | `backticked` | "double quoted"
 *   comparator := = | != | > | >= | < | <= | LIKE | ILIKE | IN | NOT IN
 *   value      := 'string' | "string" | number | ( 'string' [, 'string']* )
 */

export type Entity = 'metric' | 'param' | 'tag' | 'attribute';
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Clause {
  entity: Entity;
  key: string;
  comparator: Comparator;
  value: string | number | string[];
  /** 1-based character position of the clause in the filter string. */
  position: number;
}

const entities: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

type Token =
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'quoted'; text: string; quote: "'" | '"' | '`'; pos: number }
  | { kind: 'number'; value: number; text: string; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'punct'; text: '(' | ')' | ',' | '.'; pos: number };

const invalid = (what: string, pos: number, filter: string): MlflowError =>
  new MlflowError(
    'INVALID_PARAMETER_VALUE',
    `Invalid filter ${JSON.stringify(filter)}: ${what} at position ${pos}`,
  );

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i]!;
    const pos = i + 1;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= filter.length) throw invalid(`unterminated ${c}-quoted string`, pos, filter);
        const d = filter[j]!;
        if (d === '\\' && j + 1 < filter.length) {
          text += filter[j + 1];
          j += 2;
        } else if (d === c) {
          // A doubled quote inside a string is one quote (SQL style).
          if (filter[j + 1] === c) {
            text += c;
            j += 2;
          } else break;
        } else {
          text += d;
          j++;
        }
      }
      tokens.push({ kind: 'quoted', text, quote: c, pos });
      i = j + 1;
    } else if (/[-+0-9]/.test(c) || (c === '.' && /[0-9]/.test(filter[i + 1] ?? ''))) {
      const m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(filter.slice(i));
      if (!m) throw invalid(`unexpected character ${JSON.stringify(c)}`, pos, filter);
      if (/[A-Za-z_]/.test(filter[i + m[0].length] ?? '')) {
        throw invalid(
          `malformed number ${JSON.stringify(filter.slice(i, i + m[0].length + 1))}`,
          pos,
          filter,
        );
      }
      tokens.push({ kind: 'number', value: Number(m[0]), text: m[0], pos });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(filter.slice(i))!;
      tokens.push({ kind: 'word', text: m[0], pos });
      i += m[0].length;
    } else if ('<>!='.includes(c)) {
      const two = filter.slice(i, i + 2);
      const text = ['<=', '>=', '!=', '=='].includes(two) ? two : c;
      if (text === '!') throw invalid('"!" must be followed by "="', pos, filter);
      tokens.push({ kind: 'op', text: text === '==' ? '=' : text, pos });
      i += text.length;
    } else if (c === '(' || c === ')' || c === ',' || c === '.') {
      tokens.push({ kind: 'punct', text: c, pos });
      i++;
    } else {
      throw invalid(`unexpected character ${JSON.stringify(c)}`, pos, filter);
    }
  }
  return tokens;
}

const isWord = (t: Token | undefined, word: string): boolean =>
  t?.kind === 'word' && t.text.toUpperCase() === word;

/** Parses a filter string into clauses; an empty or blank filter is no clause. */
export function parseFilter(filter: string): Clause[] {
  const tokens = tokenize(filter);
  const clauses: Clause[] = [];
  let i = 0;
  const end = filter.length + 1;
  const peek = (): Token | undefined => tokens[i];
  const posOf = (t: Token | undefined): number => t?.pos ?? end;
  const describe = (t: Token | undefined): string =>
    t === undefined
      ? 'the end of the filter'
      : t.kind === 'number'
        ? t.text
        : t.kind === 'quoted'
          ? `${t.quote}${t.text}${t.quote}`
          : JSON.stringify(t.text);

  while (i < tokens.length || clauses.length === 0) {
    if (tokens.length === 0) return [];
    // identifier
    const first = peek();
    const position = posOf(first);
    let entity: Entity = 'attribute';
    let key: string;
    if (first?.kind === 'word' && tokens[i + 1]?.kind === 'punct' && tokens[i + 1]!.text === '.') {
      const e = entities[first.text.toLowerCase()];
      if (!e) {
        throw invalid(
          `unknown entity "${first.text}" (expected metrics, params, tags or attributes)`,
          first.pos,
          filter,
        );
      }
      entity = e;
      i += 2;
      const k = peek();
      if (k?.kind === 'word' || (k?.kind === 'quoted' && k.quote !== "'")) {
        key = k.text;
        i++;
        // Dotted keys without quotes: metrics.a.b
        while (peek()?.kind === 'punct' && peek()!.text === '.' && tokens[i + 1]?.kind === 'word') {
          key += `.${(tokens[i + 1] as { text: string }).text}`;
          i += 2;
        }
      } else {
        throw invalid(`expected a key after "${first.text}." but found ${describe(k)}`, posOf(k), filter);
      }
    } else if (
      first?.kind === 'word' &&
      !['AND', 'NOT', 'IN', 'LIKE', 'ILIKE'].includes(first.text.toUpperCase())
    ) {
      key = first.text;
      i++;
    } else if (first?.kind === 'quoted' && first.quote === '`') {
      key = first.text;
      i++;
    } else {
      throw invalid(
        `expected an identifier (such as metrics.acc) but found ${describe(first)}`,
        position,
        filter,
      );
    }
    if (key.length === 0) throw invalid('empty key', position, filter);

    // comparator
    const c = peek();
    let comparator: Comparator;
    if (c?.kind === 'op') {
      comparator = c.text as Comparator;
      i++;
    } else if (isWord(c, 'LIKE') || isWord(c, 'ILIKE') || isWord(c, 'IN')) {
      comparator = (c as { text: string }).text.toUpperCase() as Comparator;
      i++;
    } else if (isWord(c, 'NOT') && isWord(tokens[i + 1], 'IN')) {
      comparator = 'NOT IN';
      i += 2;
    } else {
      throw invalid(
        `expected a comparator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN) after "${key}" but found ${describe(c)}`,
        posOf(c),
        filter,
      );
    }

    // value
    const v = peek();
    let value: Clause['value'];
    if (comparator === 'IN' || comparator === 'NOT IN') {
      if (!(v?.kind === 'punct' && v.text === '(')) {
        throw invalid(`expected "(" after ${comparator} but found ${describe(v)}`, posOf(v), filter);
      }
      i++;
      const list: string[] = [];
      for (;;) {
        const item = peek();
        if (item?.kind !== 'quoted' || item.quote === '`') {
          throw invalid(
            `expected a quoted string in the ${comparator} list but found ${describe(item)}`,
            posOf(item),
            filter,
          );
        }
        list.push(item.text);
        i++;
        const sep = peek();
        if (sep?.kind === 'punct' && sep.text === ',') {
          i++;
          continue;
        }
        if (sep?.kind === 'punct' && sep.text === ')') {
          i++;
          break;
        }
        throw invalid(
          `expected "," or ")" in the ${comparator} list but found ${describe(sep)}`,
          posOf(sep),
          filter,
        );
      }
      value = list;
    } else if (v?.kind === 'quoted' && v.quote !== '`') {
      value = v.text;
      i++;
    } else if (v?.kind === 'number') {
      value = v.value;
      i++;
    } else {
      throw invalid(
        `expected a value (a quoted string or a number) but found ${describe(v)}`,
        posOf(v),
        filter,
      );
    }
    clauses.push({ entity, key, comparator, value, position });

    // AND or end
    const next = peek();
    if (next === undefined) break;
    if (isWord(next, 'AND')) {
      i++;
      if (peek() === undefined) throw invalid('expected a clause after AND', end, filter);
      continue;
    }
    if (isWord(next, 'OR')) throw invalid('OR is not supported (only AND)', next.pos, filter);
    throw invalid(`expected AND or the end of the filter but found ${describe(next)}`, next.pos, filter);
  }
  return clauses;
}

/** A LIKE pattern (`%` any run, `_` one character) as an anchored regular expression. */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '%') source += '[\\s\\S]*';
    else if (ch === '_') source += '[\\s\\S]';
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, caseInsensitive ? 'i' : '');
}

/** Whether a string satisfies a string comparison of a clause. */
export function matchString(actual: string | undefined, clause: Clause, filter: string): boolean {
  const { comparator, value } = clause;
  if (comparator === 'IN' || comparator === 'NOT IN') {
    const list = value as string[];
    if (actual === undefined) return false;
    return comparator === 'IN' ? list.includes(actual) : !list.includes(actual);
  }
  if (typeof value !== 'string') {
    throw invalid(
      `"${clause.key}" compares with a quoted string, not ${String(value)}`,
      clause.position,
      filter,
    );
  }
  if (actual === undefined) return false;
  switch (comparator) {
    case '=':
      return actual === value;
    case '!=':
      return actual !== value;
    case 'LIKE':
      return likeToRegExp(value, false).test(actual);
    case 'ILIKE':
      return likeToRegExp(value, true).test(actual);
    default:
      throw invalid(`${comparator} does not apply to the string "${clause.key}"`, clause.position, filter);
  }
}

/** Whether a number satisfies a numeric comparison of a clause. */
export function matchNumber(actual: number | undefined | null, clause: Clause, filter: string): boolean {
  const { comparator, value } = clause;
  if (typeof value !== 'number') {
    throw invalid(`"${clause.key}" compares with a number, not a string`, clause.position, filter);
  }
  if (actual === undefined || actual === null) return false;
  switch (comparator) {
    case '=':
      return actual === value;
    case '!=':
      return actual !== value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    default:
      throw invalid(`${comparator} does not apply to the number "${clause.key}"`, clause.position, filter);
  }
}

/** INVALID_PARAMETER_VALUE for a clause this search cannot evaluate. */
export function unsupportedClause(clause: Clause, filter: string, why: string): MlflowError {
  return invalid(why, clause.position, filter);
}
