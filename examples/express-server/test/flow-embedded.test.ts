import { embeddedBackend } from './helpers.js';
import { describeUserFlow } from './user-flow.js';

describeUserFlow('SQLite + local folder', embeddedBackend, /metadata: sqlite .*; artifacts: \//);
