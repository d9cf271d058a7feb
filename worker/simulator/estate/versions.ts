// Which product version first ships each cmdlet the estate models. A Lync 2010 Management Shell
// does not have the Lync 2013 cmdlets at all, so a plan that sends one fails the way PowerShell
// fails for an unknown name, not with a Lync error. The table is the "introduced in" line of
// Microsoft's cmdlet reference (the copy in test/fixtures/reference/cmdlets.json; a test keeps
// the two equal). Lync 2010 backs up Response Groups as the RgsConfig database and contact lists
// with DBImpExp.exe instead.
import type { EstateState } from '../state.js';
import { PreconditionError } from './model.js';

export type ProductVersion = EstateState['product'];
const ORDER: readonly ProductVersion[] = ['lync2010', 'lync2013', 'sfb2015', 'sfb2019'];

/** Cmdlet (lower case) -> the first version that has it. A cmdlet not listed is in Lync 2010 already. */
export const FIRST_VERSION: Readonly<Record<string, ProductVersion>> = {
  // Pool pairing and the Backup Service (Lync 2013).
  'invoke-cspoolfailover': 'lync2013',
  'invoke-cspoolfailback': 'lync2013',
  'get-cspoolbackuprelationship': 'lync2013',
  'get-cspoolfabricstate': 'lync2013',
  'get-csbackupservicestatus': 'lync2013',
  'invoke-csbackupservicesync': 'lync2013',
  // Lync 2010 moves the CMS with Move-CsManagementServer; the failover cmdlet is 2013.
  'invoke-csmanagementserverfailover': 'lync2013',
  // Response Group export / import (Lync 2010: SQL backup of RgsConfig).
  'export-csrgsconfiguration': 'lync2013',
  'import-csrgsconfiguration': 'lync2013',
  // User data (Lync 2010: DBImpExp.exe).
  'export-csuserdata': 'lync2013',
  'import-csuserdata': 'lync2013',
  'update-csuserdata': 'lync2013',
  // Persistent Chat replaced Group Chat in Lync 2013; the back-end mirroring cmdlets came with it.
  'get-cspersistentchatstate': 'lync2013',
  'set-cspersistentchatstate': 'lync2013',
  'set-cspersistentchatactiveserver': 'lync2013',
  'export-cspersistentchatdata': 'lync2013',
  'import-cspersistentchatdata': 'lync2013',
  'install-csmirrordatabase': 'lync2013',
  'uninstall-csmirrordatabase': 'lync2013',
};

/** Throws what PowerShell says for a name it does not know when the estate's version lacks `cmdlet`. */
export function requireCmdletInVersion(product: ProductVersion, cmdlet: string): void {
  const first = FIRST_VERSION[cmdlet.toLowerCase()];
  if (!first || ORDER.indexOf(product) >= ORDER.indexOf(first)) return;
  throw new PreconditionError(
    `The term '${cmdlet}' is not recognized as the name of a cmdlet, function, script file, or operable program. ` +
    'Check the spelling of the name, or if a path was included, verify that the path is correct and try again.',
    'ObjectNotFound');
}
