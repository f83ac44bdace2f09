import { describeAuthFlow } from './auth-flow.js';
import { embeddedBackend } from './helpers.js';

describeAuthFlow('SQLite + local folder', embeddedBackend);
