// Child: another process on the same registry (MODELREG_DIR) moves a version to a stage, then exits.
// Usage: node promote.mjs <model> <version> <stage>
import { openRegistryFromEnv } from '@modelreg/example-config';

const [name, version, stage] = process.argv.slice(2);
const { registry } = await openRegistryFromEnv(process.env);
try {
  await registry.transitionStage(name, Number(version), stage, {
    archiveExisting: true,
    actor: 'release-bot',
    comment: 'from another process',
  });
} finally {
  await registry.close();
}
