// Lync 2010 contact-list export/import with DBImpExp.exe (runbook 9). Its switches are known
// only from third-party usage (unverified against Microsoft docs), so only the forms the
// seeds show are offered.
import { z } from 'zod';
import { defineCommand } from './define.js';
import { fqdn, sipAddress, sqlInstance, sqlServerInstance, windowsPath } from './values.js';

const xmlPath = windowsPath.refine((s) => /\.xml$/i.test(s), 'must name an .xml file');
const sqlTarget = { sqlServerFqdn: fqdn.optional(), sqlInstanceName: sqlInstance.optional() };

function sqlServerArg(p: { sqlServerFqdn?: string; sqlInstanceName?: string }): string[] {
  return p.sqlServerFqdn ? [`/sqlserver:${sqlServerInstance(p.sqlServerFqdn, p.sqlInstanceName)}`] : [];
}

export const legacyExportContacts = defineCommand({
  name: 'legacy.exportContacts',
  kind: 'exe',
  summary: 'Nightly export of user contact lists (DBImpExp.exe /hrxmlfile).',
  params: z.strictObject({ fileName: xmlPath, ...sqlTarget }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { fileName: '\\\\fs-dr.contoso.com\\contacts\\contacts-nightly.xml', sqlServerFqdn: 'pool1-sql.contoso.com', sqlInstanceName: 'RTC' },
  build: (p) => ({ kind: 'exe', executable: 'DBImpExp.exe', args: [`/hrxmlfile:${p.fileName}`, ...sqlServerArg(p), '/restype:user'] }),
});

export const legacyImportContacts = defineCommand({
  name: 'legacy.importContacts',
  kind: 'exe',
  summary: 'Restore contact lists onto the DR pool (DBImpExp.exe /import).',
  params: z.strictObject({ fileName: xmlPath, ...sqlTarget, user: sipAddress.optional() }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { fileName: '\\\\fs-dr.contoso.com\\contacts\\contacts-nightly.xml', sqlServerFqdn: 'drse1.contoso.com', sqlInstanceName: 'RTC' },
  build: (p) => ({
    kind: 'exe',
    executable: 'DBImpExp.exe',
    args: ['/import', `/hrxmlfile:${p.fileName}`, ...sqlServerArg(p), '/restype:user', ...(p.user ? [`/user:${p.user.startsWith('sip:') ? p.user : `sip:${p.user}`}`] : [])],
  }),
});
