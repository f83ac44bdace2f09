import { storeRules } from '@modelreg/core';
import type {
  MetadataStore,
  ModelMethods,
  ModelVersion,
  RegisteredModel,
  StageMethods,
} from '@modelreg/core';
import { LIMIT, type StoreContext } from './context.js';
import type { HistoryRow, ModelRow, VersionRow } from './rows.js';
import { parseTags, toHistory, toModel, toVersion } from './rows.js';
import { insertRunArtifacts, insertRunRecord } from './run-records.js';
import { errors, STORE_NAME } from './transactions.js';

type NewModel = Parameters<MetadataStore['createModel']>[0];

type HistoryDraft = storeRules.HistoryDraft;
const { aliasEntry, checkAliasCas, compareText, stageMoveEntry, systemActor } = storeRules;

const mergeTags = (json: string, change: storeRules.TagChange): string =>
  JSON.stringify(storeRules.mergeTags(parseTags(json), change));

/**
 * One statement per selector: the live model row left-joined to the picked version, with that
 * version's aliases as a JSON array. Each is a lookup on a primary key or a partial index on live
 * versions (migration 2), so its cost does not grow with the number of versions.
 */
const withAliases = `SELECT m.name AS model_name, v.*,
  (SELECT json_group_array(a.alias) FROM aliases a WHERE a.name = v.name AND a.version = v.version) AS alias_list
  FROM models m`;
const liveModelWhere = 'WHERE m.name = ? AND m.deleted_at IS NULL';
export const resolveSql = {
  version: `${withAliases} LEFT JOIN model_versions v
    ON v.name = m.name AND v.version = ? AND v.deleted_at IS NULL ${liveModelWhere}`,
  latest: `${withAliases} LEFT JOIN model_versions v ON v.name = m.name AND v.version = (
    SELECT l.version FROM model_versions l WHERE l.name = m.name AND l.deleted_at IS NULL
    ORDER BY l.version DESC LIMIT 1) ${liveModelWhere}`,
  stage: `${withAliases} LEFT JOIN model_versions v ON v.name = m.name AND v.version = (
    SELECT l.version FROM model_versions l WHERE l.name = m.name AND l.stage = ? AND l.deleted_at IS NULL
    ORDER BY l.version DESC LIMIT 1) ${liveModelWhere}`,
  alias: `${withAliases} LEFT JOIN aliases p ON p.name = m.name AND p.alias = ?
    LEFT JOIN model_versions v ON v.name = p.name AND v.version = p.version AND v.deleted_at IS NULL
    ${liveModelWhere}`,
};
type ResolvedRow = Omit<VersionRow, 'name' | 'version'> & {
  model_name: string;
  name: string | null;
  version: number | null;
  alias_list: string;
};

export function createRegistryMethods(ctx: StoreContext): ModelMethods & StageMethods {
  const liveModel = (name: string): ModelRow | undefined =>
    ctx.get<ModelRow>('SELECT * FROM models WHERE name = ? AND deleted_at IS NULL', name);
  const requireModel = (name: string): ModelRow => {
    const row = liveModel(name);
    if (!row) throw errors.modelNotFound(name);
    return row;
  };
  const versionRow = (name: string, version: number, includeDeleted = false): VersionRow | undefined =>
    ctx.get<VersionRow>(
      `SELECT v.* FROM model_versions v JOIN models m ON m.name = v.name
       WHERE v.name = ? AND v.version = ? ${includeDeleted ? '' : 'AND v.deleted_at IS NULL AND m.deleted_at IS NULL'}`,
      name,
      version,
    );
  const requireVersion = (name: string, version: number): VersionRow => {
    requireModel(name);
    const row = versionRow(name, version);
    if (!row) throw errors.versionNotFound(name, version);
    return row;
  };
  const aliasRow = (name: string, alias: string): { version: number } | undefined =>
    ctx.get<{ version: number }>('SELECT version FROM aliases WHERE name = ? AND alias = ?', name, alias);

  const modelOf = (row: ModelRow): RegisteredModel => {
    const aliases = ctx
      .all<{ alias: string; version: number }>(
        'SELECT alias, version FROM aliases WHERE name = ? ORDER BY alias',
        row.name,
      )
      .map((a): [string, number] => [a.alias, a.version]);
    return toModel(row, Object.fromEntries(aliases));
  };
  const versionOf = (row: VersionRow): ModelVersion => {
    const aliases = ctx
      .all<{ alias: string }>(
        'SELECT alias FROM aliases WHERE name = ? AND version = ? ORDER BY alias',
        row.name,
        row.version,
      )
      .map((a) => a.alias);
    return toVersion(row, aliases);
  };
  const loadVersion = (name: string, version: number): ModelVersion =>
    versionOf(versionRow(name, version, true)!);

  const appendHistory = (h: HistoryDraft): void => {
    ctx.run(
      `INSERT INTO history (name, kind, version, from_stage, to_stage, alias, from_version, actor, comment, time)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      h.name,
      h.kind,
      h.version,
      h.fromStage,
      h.toStage,
      h.alias,
      h.fromVersion,
      h.actor,
      h.comment,
      h.time,
    );
  };

  const moveStage = (
    row: VersionRow,
    toStage: string,
    change: { actor: string; comment: string; time: number },
  ): void => {
    ctx.run(
      'UPDATE model_versions SET stage = ?, updated_at = ? WHERE name = ? AND version = ?',
      toStage,
      change.time,
      row.name,
      row.version,
    );
    appendHistory(stageMoveEntry(row.name, row.version, row.stage, toStage, change));
    ctx.emit('version.stage_changed', {
      name: row.name,
      version: row.version,
      fromStage: row.stage,
      toStage,
    });
  };

  const pointAlias = (
    name: string,
    alias: string,
    version: number,
    by: { actor: string; comment: string; time: number },
  ): void => {
    const current = aliasRow(name, alias)?.version ?? null;
    ctx.run(
      'INSERT INTO aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version',
      name,
      alias,
      version,
    );
    appendHistory(aliasEntry('alias_set', name, alias, version, current, by));
    ctx.emit('alias.set', { name, alias, version, fromVersion: current });
  };

  /** Inserts a model, or revives the deleted one of that name (its version counter continues). */
  const insertModel = (model: NewModel, revive: boolean): void => {
    if (revive) {
      ctx.run(
        `UPDATE models SET description = ?, tags = ?, created_at = ?, updated_at = ?, deleted_at = NULL
         WHERE name = ?`,
        model.description,
        JSON.stringify(model.tags),
        model.createdAt,
        model.createdAt,
        model.name,
      );
    } else {
      ctx.run(
        `INSERT INTO models (name, description, tags, last_version, created_at, updated_at, deleted_at)
         VALUES (?, ?, ?, 0, ?, ?, NULL)`,
        model.name,
        model.description,
        JSON.stringify(model.tags),
        model.createdAt,
        model.createdAt,
      );
    }
    ctx.emit('model.created', { name: model.name });
  };

  return {
    createModel: (model) =>
      ctx.write('createModel', () => {
        const existing = ctx.get<ModelRow>('SELECT * FROM models WHERE name = ?', model.name);
        if (existing && existing.deleted_at === null) {
          throw errors.modelExists(model.name);
        }
        insertModel(model, existing !== undefined);
        return modelOf(liveModel(model.name)!);
      }),

    getModel: (name) =>
      ctx.read('getModel', () => {
        const row = liveModel(name);
        return row ? modelOf(row) : null;
      }),

    listModels: (query) =>
      ctx.read('listModels', () => {
        const where = ['deleted_at IS NULL'];
        const params: (string | number)[] = [];
        if (query.nameContains !== undefined && query.nameContains !== '') {
          where.push('instr(name, ?) > 0');
          params.push(query.nameContains);
        }
        for (const [key, value] of Object.entries(query.tags ?? {})) {
          where.push(
            "EXISTS (SELECT 1 FROM json_each(models.tags) t WHERE t.key = ? AND t.type = 'text' AND t.value = ?)",
          );
          params.push(key, value);
        }
        const sql = `SELECT * FROM models WHERE ${where.join(' AND ')} ORDER BY name ${LIMIT} OFFSET ?`;
        return ctx.query<ModelRow>(sql, [...params, query.limit, query.offset]).map(modelOf);
      }),

    updateModel: (name, change) =>
      ctx.write('updateModel', () => {
        const row = requireModel(name);
        ctx.run(
          'UPDATE models SET description = ?, tags = ?, updated_at = ? WHERE name = ?',
          change.description ?? row.description,
          mergeTags(row.tags, change.tags),
          change.time,
          name,
        );
        ctx.emit('model.updated', { name });
        return modelOf(liveModel(name)!);
      }),

    deleteModel: (name, time) =>
      ctx.write('deleteModel', () => {
        requireModel(name);
        ctx.run('UPDATE model_versions SET deleted_at = ? WHERE name = ? AND deleted_at IS NULL', time, name);
        ctx.run('DELETE FROM aliases WHERE name = ?', name);
        ctx.run('UPDATE models SET deleted_at = ? WHERE name = ?', time, name);
        ctx.emit('model.deleted', { name });
      }),

    renameModel: (name, newName, time) =>
      ctx.write('renameModel', () => {
        requireModel(name);
        const taken = ctx.get<Pick<ModelRow, 'deleted_at'>>(
          'SELECT deleted_at FROM models WHERE name = ?',
          newName,
        );
        if (taken) throw errors.modelNameTaken(newName, taken.deleted_at !== null);
        if (ctx.get('SELECT 1 FROM deployments WHERE model = ? AND deleted_at IS NULL', name)) {
          throw errors.modelDeployed(name);
        }
        // The versions and aliases reference the model's name: checked at commit, when all moved.
        ctx.run('PRAGMA defer_foreign_keys = ON');
        ctx.run('UPDATE models SET name = ?, updated_at = ? WHERE name = ?', newName, time, name);
        ctx.run('UPDATE model_versions SET name = ? WHERE name = ?', newName, name);
        ctx.run('UPDATE aliases SET name = ? WHERE name = ?', newName, name);
        ctx.run('UPDATE history SET name = ? WHERE name = ?', newName, name);
        ctx.emit('model.renamed', { name, newName });
        return modelOf(requireModel(newName));
      }),

    createVersion: (version) =>
      ctx.write('createVersion', () => {
        const { placement } = version;
        if (version.run) insertRunRecord(ctx, version.run);
        if (version.runArtifacts?.length) insertRunArtifacts(ctx, version.runId ?? '', version.runArtifacts);
        if (!liveModel(version.name)) {
          if (!version.createModel) requireModel(version.name);
          const revive = ctx.get('SELECT 1 FROM models WHERE name = ?', version.name) !== undefined;
          insertModel(
            { name: version.name, description: '', tags: {}, createdAt: version.createdAt },
            revive,
          );
        }
        const initialStage = placement?.fromStage ?? version.stage;
        const next = ctx.get<{ last_version: number }>(
          'UPDATE models SET last_version = last_version + 1, updated_at = max(updated_at, ?) WHERE name = ? RETURNING last_version',
          version.createdAt,
          version.name,
        )!.last_version;
        ctx.run(
          `INSERT INTO model_versions
             (name, version, stage, source, run_id, files, description, tags, created_at, updated_at, deleted_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
          version.name,
          next,
          initialStage,
          version.source,
          version.runId,
          JSON.stringify(version.files),
          version.description,
          JSON.stringify(version.tags),
          version.createdAt,
          version.createdAt,
        );
        ctx.emit('version.created', { name: version.name, version: next, stage: initialStage });
        if (placement) {
          const by = { actor: placement.actor, comment: placement.comment, time: version.createdAt };
          if (version.stage !== initialStage) {
            const archiveTo = storeRules.archiveStageFor(version.stage, placement.archiveTo);
            const others =
              archiveTo !== undefined
                ? ctx.all<VersionRow>(
                    `SELECT * FROM model_versions WHERE name = ? AND stage = ? AND version != ? AND deleted_at IS NULL
                     ORDER BY version`,
                    version.name,
                    version.stage,
                    next,
                  )
                : [];
            moveStage(versionRow(version.name, next)!, version.stage, by);
            for (const other of others) moveStage(other, archiveTo!, by);
          }
          if (placement.alias !== undefined) pointAlias(version.name, placement.alias, next, by);
        }
        return loadVersion(version.name, next);
      }),

    getVersion: (name, version, options) =>
      ctx.read('getVersion', () => {
        const row = versionRow(name, version, options?.includeDeleted === true);
        return row ? versionOf(row) : null;
      }),

    listVersions: (name, options) =>
      ctx.read('listVersions', () => {
        const model = ctx.get<ModelRow>('SELECT * FROM models WHERE name = ?', name);
        const includeDeleted = options?.includeDeleted === true;
        if (!model || (model.deleted_at !== null && !includeDeleted)) return [];
        const live = includeDeleted ? '' : 'AND deleted_at IS NULL';
        const rows =
          options?.stage === undefined
            ? ctx.all<VersionRow>(
                `SELECT * FROM model_versions WHERE name = ? ${live} ORDER BY version`,
                name,
              )
            : ctx.all<VersionRow>(
                `SELECT * FROM model_versions WHERE name = ? AND stage = ? ${live} ORDER BY version`,
                name,
                options.stage,
              );
        return rows.map(versionOf);
      }),

    resolveVersion: (name, selector) =>
      ctx.read('resolveVersion', () => {
        const row =
          selector.type === 'version'
            ? ctx.get<ResolvedRow>(resolveSql.version, selector.version, name)
            : selector.type === 'latest'
              ? ctx.get<ResolvedRow>(resolveSql.latest, name)
              : selector.type === 'stage'
                ? ctx.get<ResolvedRow>(resolveSql.stage, selector.stage, name)
                : ctx.get<ResolvedRow>(resolveSql.alias, selector.alias, name);
        if (!row) return null;
        if (row.name === null || row.version === null) return { version: null };
        const aliases = (JSON.parse(row.alias_list) as string[]).sort(compareText);
        return { version: toVersion({ ...row, name: row.name, version: row.version }, aliases) };
      }),

    updateVersion: (name, version, change) =>
      ctx.write('updateVersion', () => {
        const row = requireVersion(name, version);
        ctx.run(
          'UPDATE model_versions SET description = ?, tags = ?, updated_at = ? WHERE name = ? AND version = ?',
          change.description ?? row.description,
          mergeTags(row.tags, change.tags),
          change.time,
          name,
          version,
        );
        ctx.emit('version.updated', { name, version });
        return loadVersion(name, version);
      }),

    deleteVersion: (name, version, time) =>
      ctx.write('deleteVersion', () => {
        requireVersion(name, version);
        const aliases = ctx.all<{ alias: string }>(
          'SELECT alias FROM aliases WHERE name = ? AND version = ? ORDER BY alias',
          name,
          version,
        );
        ctx.run(
          'UPDATE model_versions SET deleted_at = ? WHERE name = ? AND version = ?',
          time,
          name,
          version,
        );
        ctx.emit('version.deleted', { name, version });
        for (const { alias } of aliases) {
          ctx.run('DELETE FROM aliases WHERE name = ? AND alias = ?', name, alias);
          appendHistory(aliasEntry('alias_deleted', name, alias, version, version, systemActor(time)));
          ctx.emit('alias.deleted', { name, alias, version });
        }
      }),

    transitionStage: (change) =>
      ctx.write('transitionStage', () => {
        const target = requireVersion(change.name, change.version);
        if (target.stage === change.toStage) return { version: versionOf(target), archived: [] };
        const archiveTo = storeRules.archiveStageFor(
          change.toStage,
          change.archiveExisting ? change.archiveStage : undefined,
        );
        const others =
          archiveTo !== undefined
            ? ctx.all<VersionRow>(
                `SELECT * FROM model_versions WHERE name = ? AND stage = ? AND version != ? AND deleted_at IS NULL
                 ORDER BY version`,
                change.name,
                change.toStage,
                change.version,
              )
            : [];
        moveStage(target, change.toStage, change);
        for (const other of others) moveStage(other, archiveTo!, change);
        return {
          version: loadVersion(change.name, change.version),
          archived: others.map((o) => loadVersion(o.name, o.version)),
        };
      }),

    setAlias: (change) =>
      ctx.write('setAlias', () => {
        requireVersion(change.name, change.version);
        checkAliasCas(STORE_NAME, change, aliasRow(change.name, change.alias)?.version ?? null);
        pointAlias(change.name, change.alias, change.version, change);
      }),

    deleteAlias: (change) =>
      ctx.write('deleteAlias', () => {
        requireModel(change.name);
        const current = aliasRow(change.name, change.alias)?.version;
        if (current === undefined) throw errors.aliasNotFound(change.name, change.alias);
        checkAliasCas(STORE_NAME, change, current);
        ctx.run('DELETE FROM aliases WHERE name = ? AND alias = ?', change.name, change.alias);
        appendHistory(aliasEntry('alias_deleted', change.name, change.alias, current, current, change));
        ctx.emit('alias.deleted', { name: change.name, alias: change.alias, version: current });
      }),

    getHistory: (name, options) =>
      ctx.read('getHistory', () => {
        if (!liveModel(name)) return [];
        const rows =
          options?.version === undefined
            ? ctx.all<HistoryRow>('SELECT * FROM history WHERE name = ? ORDER BY id', name)
            : ctx.all<HistoryRow>(
                'SELECT * FROM history WHERE name = ? AND version = ? ORDER BY id',
                name,
                options.version,
              );
        return rows.map(toHistory);
      }),
  };
}
