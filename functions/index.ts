// The single entry Azure loads (package.json "main" -> dist/functions/index.js) and the one the
// local host loads: every trigger, orchestration and activity is registered by importing its
// module here. There is no other list of functions.
import './http/health.js';
