export * from './canonical.js';
export * from './chain.js';
export * from './config.js';
export * from './errors.js';
export * from './schema.js';
export * from './store.js';
export * from './verify.js';
export * from './anchor.js';
