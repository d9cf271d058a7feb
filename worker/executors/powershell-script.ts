// The only PowerShell the worker ever runs. It is a constant: the cmdlet name and its
// parameters arrive as JSON on stdin and are splatted, so no value is ever parsed as code.
// The allow-list is checked again here so that a compromised or buggy caller still cannot
// reach any other command through this process. A credential argument names a secret of the
// worker's SecretManagement vault; the script reads it there (Get-Secret), so the password never
// passes through lyncdr: not in the plan, the queue message, stdin or the journal.

import { SECRET_NAME_PATTERN } from '../../shared/commands/values.js';

/** Every cmdlet the catalog uses (a test keeps the two in step). */
export const ALLOWED_CMDLETS = [
  'Invoke-CsPoolFailover', 'Invoke-CsPoolFailback', 'Get-CsPool', 'Get-CsPoolBackupRelationship', 'Get-CsPoolFabricState',
  'Test-CsRegistration', 'Get-CsBackupServiceStatus', 'Invoke-CsBackupServiceSync', 'Invoke-CsManagementServerFailover',
  'Get-CsManagementStoreReplicationStatus', 'Get-CsService', 'Get-CsPersistentChatState', 'Set-CsPersistentChatState',
  'Set-CsPersistentChatActiveServer', 'Install-CsMirrorDatabase', 'Uninstall-CsMirrorDatabase', 'Export-CsPersistentChatData',
  'Import-CsPersistentChatData', 'Set-CsEdgeServer', 'Get-CsUser', 'Get-CsUserPoolInfo', 'Move-CsUser', 'Export-CsUserData', 'Import-CsUserData',
  'Update-CsUserData', 'Export-CsRgsConfiguration', 'Import-CsRgsConfiguration', 'Get-DnsServerResourceRecord',
  'Add-DnsServerResourceRecordA', 'Add-DnsServerResourceRecordCName', 'Add-DnsServerResourceRecord', 'Remove-DnsServerResourceRecord',
] as const;

/** Exit code the script uses when it refuses a request (not a cmdlet failure). */
export const REFUSED_EXIT_CODE = 64;

export const POWERSHELL_SCRIPT = `[CmdletBinding()]
param([int]$JsonDepth = 6)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::InputEncoding = New-Object System.Text.UTF8Encoding $false
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$allowed = @(${ALLOWED_CMDLETS.map((c) => `'${c}'`).join(', ')})
$req = [Console]::In.ReadToEnd() | ConvertFrom-Json
$cmdlet = [string]$req.cmdlet
if ($allowed -cnotcontains $cmdlet) { [Console]::Error.WriteLine('lyncdr: cmdlet not on the allow-list'); exit ${REFUSED_EXIT_CODE} }
$params = @{}
foreach ($a in @($req.arguments)) {
  $name = [string]$a.name
  if ($name -cnotmatch '^[A-Za-z][A-Za-z0-9]{0,63}$') { [Console]::Error.WriteLine('lyncdr: bad parameter name'); exit ${REFUSED_EXIT_CODE} }
  switch -CaseSensitive ([string]$a.kind) {
    'value' { $params[$name] = $a.value }
    'switch' { $params[$name] = [bool]$a.value }
    'null' { $params[$name] = $null }
    'listAdd' { $params[$name] = @{ Add = @($a.value) } }
    'listRemove' { $params[$name] = @{ Remove = @($a.value) } }
    'credential' {
      $secret = [string]$a.secret
      if ($secret -cnotmatch '${SECRET_NAME_PATTERN.source}' -or [string]::IsNullOrEmpty([string]$req.secretVault)) { [Console]::Error.WriteLine('lyncdr: bad credential reference'); exit ${REFUSED_EXIT_CODE} }
      try {
        Import-Module Microsoft.PowerShell.SecretManagement -ErrorAction Stop
        $cred = Get-Secret -Name $secret -Vault ([string]$req.secretVault) -ErrorAction Stop
      } catch {
        [Console]::Error.WriteLine("lyncdr: cannot read the credential '$secret' from the vault '$([string]$req.secretVault)': $($_.Exception.Message)")
        exit 1
      }
      if ($cred -isnot [System.Management.Automation.PSCredential]) { [Console]::Error.WriteLine("lyncdr: the secret '$secret' is not a credential (store it with Set-Secret -Secret (Get-Credential))"); exit 1 }
      $params[$name] = $cred
    }
    default { [Console]::Error.WriteLine('lyncdr: bad argument kind'); exit ${REFUSED_EXIT_CODE} }
  }
}
if (-not (Get-Command -Name $cmdlet -ErrorAction SilentlyContinue)) {
  foreach ($module in 'SkypeForBusiness', 'Lync') { Import-Module $module -ErrorAction SilentlyContinue }
}
try {
  if ($null -ne $req.pipeline) { $result = @($req.pipeline.values) | & $cmdlet @params }
  else { $result = & $cmdlet @params }
} catch {
  [Console]::Error.WriteLine($_.Exception.Message)
  exit 1
}
if ($null -eq $result) { '[]' } else { ConvertTo-Json -InputObject @($result) -Depth $JsonDepth -Compress }
exit 0
`;

/** -EncodedCommand wants UTF-16LE base64; it keeps the script off any shell's parser. */
export const ENCODED_POWERSHELL_SCRIPT = Buffer.from(POWERSHELL_SCRIPT, 'utf16le').toString('base64');
