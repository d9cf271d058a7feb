<#
.SYNOPSIS
  Installs the lyncdr hybrid worker as a Windows service on a server of one Lync site.
.DESCRIPTION
  The worker makes outbound connections only (Service Bus over AMQP/TLS 5671, or 443 with
  WebSockets). It runs the Lync cmdlets and the SQL of the DR runbooks for its site. The service
  runs as a group managed service account (gMSA) that holds the Lync (CsAdministrator) and SQL
  (sysadmin on the pChat instances) rights the runbooks need; no password is stored here.
.EXAMPLE
  $key = Read-Host -AsSecureString 'result key of site west (Key Vault secret result-key-west)'
  .\install.ps1 -Site west -ServiceBusNamespace sb-lyncdr-abc.servicebus.windows.net -Account 'CONTOSO\gmsa-lyncdr$' -ResultKey $key
.PARAMETER SecretVault
  The SecretManagement vault, registered for the service account, that holds the test users'
  credentials under the names the topology gives (testUser.credential), each a PSCredential:
  Set-Secret -Vault <vault> -Name lyncdr-test-eepool1 -Secret (Get-Credential). Set as
  LYNCDR_SECRET_VAULT; without it the worker refuses every sign-in check.
.PARAMETER ResultKey
  This site's result key: the worker signs every result with it and the app refuses results that
  do not verify with the site's key. Written to <DataDir>\<Site>\result.key, readable only by the
  service account and administrators.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
  [Parameter(Mandatory)] [ValidatePattern('^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$')] [string] $Site,
  [Parameter(Mandatory)] [ValidatePattern('^[a-z0-9-]+\.servicebus\.windows\.net$')] [string] $ServiceBusNamespace,
  [Parameter(Mandatory)] [ValidatePattern('^[^\\]+\\[^\\]+\$$')] [string] $Account,
  [Parameter(Mandatory)] [securestring] $ResultKey,
  [ValidatePattern('^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$')] [string] $SecretVault,
  [string] $InstallDir = 'C:\Program Files\lyncdr-worker',
  [string] $DataDir = 'C:\ProgramData\lyncdr-worker'
)
$ErrorActionPreference = 'Stop'

# Node 20 reached end of life on 2026-04-30 and the Azure SDKs the worker uses declare Node >= 22.
if (-not (Get-Command node.exe -ErrorAction SilentlyContinue)) { throw 'Node.js 22 LTS is required (node.exe not found on PATH).' }
$major = [int]((node.exe --version).TrimStart('v').Split('.')[0])
if ($major -lt 22) { throw "Node.js 22 LTS or later is required; found $(node.exe --version)." }

$serviceName = "lyncdr-worker-$Site"
New-Item -ItemType Directory -Force -Path $InstallDir, "$DataDir\$Site\journal" | Out-Null
Copy-Item -Recurse -Force -Path (Join-Path $PSScriptRoot '..\..\dist'), (Join-Path $PSScriptRoot '..\..\node_modules'), (Join-Path $PSScriptRoot '..\..\package.json') -Destination $InstallDir

# The journal must survive restarts and only the service account may change it.
$acl = Get-Acl $DataDir
$acl.SetAccessRuleProtection($true, $false)
foreach ($who in @('BUILTIN\Administrators', 'NT AUTHORITY\SYSTEM', $Account)) {
  $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($who, 'Modify', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
}
Set-Acl $DataDir $acl

# The site's result key, as a file only the service account (and administrators) can read.
$keyFile = "$DataDir\$Site\result.key"
$plain = [Runtime.InteropServices.Marshal]::PtrToStringBSTR([Runtime.InteropServices.Marshal]::SecureStringToBSTR($ResultKey))
if ($plain.Length -lt 32) { throw 'The result key must be at least 32 characters (Key Vault secret result-key-<site>).' }
[IO.File]::WriteAllText($keyFile, $plain)
$plain = $null
$keyAcl = Get-Acl $keyFile
$keyAcl.SetAccessRuleProtection($true, $false)
foreach ($who in @('BUILTIN\Administrators', 'NT AUTHORITY\SYSTEM', $Account)) {
  $keyAcl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($who, 'Read', 'None', 'None', 'Allow')))
}
Set-Acl $keyFile $keyAcl

$arguments = @(
  "`"$InstallDir\dist\worker\main.js`"", '--site', $Site, '--executor', 'powershell', '--transport', 'servicebus',
  '--journal', "`"$DataDir\$Site\journal`"", '--result-key-file', "`"$keyFile`""
) -join ' '
$binPath = "`"$((Get-Command node.exe).Source)`" $arguments"

if ($PSCmdlet.ShouldProcess($serviceName, 'install service')) {
  if (Get-Service $serviceName -ErrorAction SilentlyContinue) { Stop-Service $serviceName; sc.exe delete $serviceName | Out-Null }
  New-Service -Name $serviceName -BinaryPathName $binPath -DisplayName "lyncdr hybrid worker ($Site)" -StartupType Automatic | Out-Null
  sc.exe config $serviceName obj= $Account | Out-Null
  sc.exe failure $serviceName reset= 86400 actions= restart/5000/restart/30000/restart/60000 | Out-Null
  # Identity-based Service Bus access (the gMSA's Entra identity or a workload identity).
  [Environment]::SetEnvironmentVariable('ServiceBusConnection', "Endpoint=sb://$ServiceBusNamespace/;Authentication=ManagedIdentity", 'Machine')
  # The test users' credentials are read there by the worker's PowerShell (Get-Secret), never by lyncdr.
  if ($SecretVault) { [Environment]::SetEnvironmentVariable('LYNCDR_SECRET_VAULT', $SecretVault, 'Machine') }
  else { Write-Warning 'No -SecretVault: the sign-in checks (Test-CsRegistration of each pool''s test user) will be refused on this worker.' }
  Start-Service $serviceName
  Get-Service $serviceName
}
