// Value schemas for every string a command can carry. They are deliberately narrower than
// what Lync or SQL Server would accept: a value that reaches a cmdlet, a T-SQL batch or a
// command line must be plain data, so quotes, `$`, backticks, `;`, `|`, control characters
// and non-ASCII look-alikes are refused up front rather than escaped later.
import { z } from 'zod';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const FQDN_RE = new RegExp(`^(?:${LABEL}\\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`);

export const fqdn = z
  .string()
  .max(253, 'an FQDN is at most 253 characters')
  .regex(FQDN_RE, 'must be a fully qualified domain name such as pool1.contoso.com (ASCII letters, digits, hyphens, dots)')
  .transform((s) => s.toLowerCase());

/** A bare SQL Server instance name (RTC, PCHAT); the default instance is expressed by omitting it. */
export const sqlInstance = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,15}$/, 'must be a SQL Server instance name: a letter then up to 15 letters, digits or underscores');

/** `server.fqdn\INSTANCE`, the form Export/Import-CsPersistentChatData and DBImpExp.exe want. */
export function sqlServerInstance(server: string, instance: string | undefined): string {
  return instance ? `${server}\\${instance}` : server;
}

const SEGMENT = '[A-Za-z0-9_][A-Za-z0-9 _.()-]{0,127}';
const LOCAL_PATH_RE = new RegExp(`^[A-Za-z]:\\\\(?:${SEGMENT}(?:\\\\${SEGMENT})*\\\\?)?$`);
const UNC_PATH_RE = new RegExp(`^\\\\\\\\${LABEL}(?:\\.${LABEL})*\\\\[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}\\$?(?:\\\\${SEGMENT})*\\\\?$`);

function noDotSegments(p: string): boolean {
  return !p.split('\\').some((seg) => seg.trim() === '..' || seg.trim() === '.' || seg !== seg.trimEnd());
}

export const uncPath = z
  .string()
  .max(260, 'a path is at most 260 characters')
  .regex(UNC_PATH_RE, 'must be a UNC path such as \\\\server\\share\\folder (letters, digits, space, _ . - ( ) only)')
  .refine(noDotSegments, 'must not contain . or .. segments or trailing spaces in a segment');

export const localPath = z
  .string()
  .max(260, 'a path is at most 260 characters')
  .regex(LOCAL_PATH_RE, 'must be a local Windows path such as D:\\LogShipping\\mgc (letters, digits, space, _ . - ( ) only)')
  .refine(noDotSegments, 'must not contain . or .. segments or trailing spaces in a segment');

export const windowsPath = z.union([uncPath, localPath], {
  error: 'must be a local Windows path (D:\\folder) or a UNC path (\\\\server\\share\\folder) of letters, digits, space, _ . - ( )',
});

/** A file name with no directory part, e.g. mgc_20240101120000.trn. */
export const fileName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a plain file name (letters, digits, _ . -), no directory part')
  .refine((s) => !s.includes('..'), 'must not contain ..');

export const logBackupFileName = fileName.refine((s) => /\.trn$/i.test(s), 'must be a transaction-log backup file (*.trn)');

/** A SIP address as Lync cmdlets accept it: sip:user@domain or user@domain. */
export const sipAddress = z
  .string()
  .max(320)
  .regex(/^(?:sip:)?[A-Za-z0-9][A-Za-z0-9._+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/, 'must be a SIP address such as sip:user@contoso.com')
  .transform((s) => s.toLowerCase());

/** SecretManagement's names of secrets and vaults, as lyncdr accepts them (the worker's script checks it again). */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$/;
/** The name of a secret in a worker's SecretManagement vault (Get-Secret -Name). */
export const secretName = z
  .string()
  .regex(SECRET_NAME_PATTERN, 'must be a secret name: letters, digits, dot, underscore and hyphen, at most 127');

/** A SIP address without the sip: prefix, the form -UserFilter wants. */
export const sipUserFilter = sipAddress.refine((s) => !s.startsWith('sip:'), 'must be a SIP address without the sip: prefix, e.g. user@contoso.com');

export const ipv4 = z
  .string()
  .regex(/^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/, 'must be an IPv4 address such as 10.0.0.5');

/** Seconds, rendered as a TimeSpan (hh:mm:ss) where a cmdlet wants -WaitTime. */
export const waitSeconds = z.number().int().min(1).max(86_400);

export function timeSpan(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Databases a SQL command may name. Identifiers cannot be bound as parameters everywhere, so they come only from here. */
export const PCHAT_DATABASES = ['mgc', 'mgccomp'] as const;
export const pchatDatabase = z.enum(PCHAT_DATABASES, { error: 'must be one of the Persistent Chat databases: mgc, mgccomp' });
/**
 * Databases a full backup, a restore or the restore history may name (always a bound parameter):
 * the Persistent Chat ones, and rgsconfig, the Response Group store Lync 2010 backs up with SQL.
 */
export const backupDatabase = z.enum([...PCHAT_DATABASES, 'rgsconfig'], { error: 'must be mgc, mgccomp or rgsconfig' });
export const SQL_IDENTIFIERS = ['mgc', 'mgccomp', 'master', 'msdb'] as const;
export const sqlIdentifier = z.enum(SQL_IDENTIFIERS);
export type SqlIdentifier = z.infer<typeof sqlIdentifier>;

/** Only mgc is log shipped (mgccomp is not failed over). */
export const logShippedDatabase = z.literal('mgc', { error: 'only mgc is log shipped; mgccomp is not failed over' });

export const pchatServiceIdentity = z
  .string()
  .regex(new RegExp(`^PersistentChatServer:${FQDN_RE.source.slice(1, -1)}$`), 'must be a Persistent Chat service identity such as PersistentChatServer:pchat.contoso.com');

/** "global" in Lync 2013; later versions name the collection after the pool's service identity. */
export const activeServerCollectionIdentity = z.union([z.literal('global'), pchatServiceIdentity], {
  error: 'must be "global" (Lync 2013) or a service identity such as PersistentChatServer:pchat.contoso.com',
});

export const dnsZone = fqdn;
/** A DNS owner name relative to its zone: "sip", "meet", "@", or "_sipinternaltls._tcp". */
export const dnsRelativeName = z
  .string()
  .regex(/^(?:@|(?:_?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.(?:_?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?))*)$/, 'must be a DNS name relative to its zone, e.g. sip, meet or _sipinternaltls._tcp');

/** A records key of the run (legacy.usersToMove): the list a pre-flight read recorded. */
export const recordedKey = z.string().regex(/^[a-zA-Z][a-zA-Z0-9.]{0,63}$/, 'a records key: letters, digits and dots');
