export { Topology, type TopologyInput, type FrontEndPool, type PersistentChat, type DnsRecord } from './schema.js';
export { checkTopology, type Problem, PCHAT_USERS_PER_ACTIVE_SERVER, PCHAT_MAX_SERVERS, PCHAT_MAX_ACTIVE_SERVERS, DNS_TTL_MIN_SECONDS, DNS_TTL_MAX_SECONDS } from './rules.js';
export { parseTopology, loadTopologyFile, readTopologyFile, TopologyFileError, formatPath, type ParseResult } from './parse.js';
export { summarizeTopology, formatTopologySummary, type TopologySummary } from './summary.js';
