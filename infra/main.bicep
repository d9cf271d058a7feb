// lyncdr in Azure: Function App (Flex Consumption, Node 22 LTS) with Durable Functions on a storage
// account reached by managed identity (shared keys disabled), Service Bus for the hybrid workers
// (a queue per site, results, health), Key Vault for secrets (audit HMAC key, SMTP, Teams),
// Application Insights. Azure Developer CLI layout: `azd up` deploys it.
targetScope = 'resourceGroup'

@description('Short environment name, e.g. prod or drill.')
@minLength(2)
@maxLength(12)
param environmentName string

param location string = resourceGroup().location

@description('Lync sites with an on-prem worker (lowercase, as the workers name them).')
param sites array = [ 'east', 'west' ]

@description('Each site\'s worker identity (Entra object id of its gMSA or workload identity), by site: it may receive only its own site\'s commands and send to the results and health queues. A site left out gets no rights here.')
param workerPrincipals object = {}

@description('Object id of the group whose members operate lyncdr (read runs, approve).')
param operatorsGroupObjectId string = ''

@description('Client id of the Entra app registration that signs users in (App Service Authentication).')
param entraClientId string

@description('Who may start, confirm, decide, cancel and release locks: user principal names.')
@minLength(1)
param operators array

@description('Approval policies by name (default, declare-disaster, destructive-restore): required, approverGroups.primary / .escalation (user principal names), timeoutMinutes, escalationTimeoutMinutes.')
param approvalPolicies object

@description('Runs the app starts by itself (LYNCDR_SCHEDULES, README "Schedules"): name, runbook, cron (six-field NCRONTAB, UTC), options, afterTopologyChange.')
param schedules array = []

@description('Channels the notify activity tells people on: teams, email (LYNCDR_CHANNELS); empty: none.')
param channels array = []

@description('The e-mail channel: SMTP relay host (e.g. smtp.azurecomm.net), user and From address; the password is the Key Vault secret smtp-password. Empty host: no mail settings.')
param smtpHost string = ''
param smtpUser string = ''
param mailFrom string = ''

@description('The Azure Bot for the Teams channel: none; SingleTenant (an Entra app registration of this tenant, teamsAppId, its secret as the Key Vault secret teams-app-password); UserAssignedMSI (a managed identity made here, no secret).')
@allowed([ 'none', 'SingleTenant', 'UserAssignedMSI' ])
param teamsBot string = 'none'

@description('SingleTenant: the client id of the bot\'s app registration.')
param teamsAppId string = ''

@description('Days each audit anchor stays immutable (WORM); SOC 2 and ISO 22301 evidence is usually kept for several years.')
@minValue(1)
param auditAnchorRetentionDays int = 2555

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName, app: 'lyncdr' }

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: { name: 'lyncdr-${token}', location: location, tags: tags }
}

module storage 'br/public:avm/res/storage/storage-account:0.14.3' = {
  name: 'storage'
  params: {
    name: 'stlyncdr${token}'
    location: location
    tags: tags
    kind: 'StorageV2'
    skuName: 'Standard_ZRS'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
    blobServices: {
      containers: [
        { name: 'app-package' }
        // The audit trail's anchors (shared/audit/anchor.ts): append blobs under a time-based
        // retention policy with protected append writes, so the app can add an anchor line but
        // nobody, the app included, can change or delete one until the period ends. Lock the
        // policy (az storage container immutability-policy lock) once the period is agreed:
        // unlocked, an account owner can still shorten or delete it.
        {
          name: 'lyncdr-audit-anchors'
          immutabilityPolicyProperties: { immutabilityPeriodSinceCreationInDays: auditAnchorRetentionDays, allowProtectedAppendWrites: true }
        }
      ]
    }
  }
}

module bus 'br/public:avm/res/service-bus/namespace:0.10.1' = {
  name: 'servicebus'
  params: {
    name: 'sb-lyncdr-${token}'
    location: location
    tags: tags
    skuObject: { name: 'Standard' }
    disableLocalAuth: true
    queues: concat(
      map(sites, site => {
        name: 'lyncdr-commands-${site}'
        lockDuration: 'PT1M'
        maxDeliveryCount: 5
        requiresDuplicateDetection: true
        duplicateDetectionHistoryTimeWindow: 'PT1H'
        deadLetteringOnMessageExpiration: true
      }),
      [
        { name: 'lyncdr-results', lockDuration: 'PT1M', maxDeliveryCount: 5, requiresDuplicateDetection: true, duplicateDetectionHistoryTimeWindow: 'PT1H' }
        { name: 'lyncdr-health', lockDuration: 'PT30S', maxDeliveryCount: 3, defaultMessageTimeToLive: 'PT1H' }
      ]
    )
  }
}

module vault 'br/public:avm/res/key-vault/vault:0.11.0' = {
  name: 'keyvault'
  params: {
    name: 'kv-lyncdr-${token}'
    location: location
    tags: tags
    enableRbacAuthorization: true
    enablePurgeProtection: true
    softDeleteRetentionInDays: 90
  }
}

// UserAssignedMSI: the bot's identity, given to the Function App, which asks for its token.
resource botIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (teamsBot == 'UserAssignedMSI') {
  name: 'id-lyncdr-bot-${token}'
  location: location
  tags: tags
}

var botAppId = teamsBot == 'UserAssignedMSI' ? botIdentity.properties.clientId : (teamsBot == 'SingleTenant' ? teamsAppId : '')

module app 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: 'func-lyncdr-${token}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    appInsightsConnectionString: monitoring.outputs.connectionString
    serviceBusNamespace: '${bus.outputs.name}.servicebus.windows.net'
    keyVaultUri: vault.outputs.uri
    sites: sites
    entraClientId: entraClientId
    operators: operators
    approvalPolicies: approvalPolicies
    schedules: schedules
    channels: channels
    smtpHost: smtpHost
    smtpUser: smtpUser
    mailFrom: mailFrom
    teamsAppId: botAppId
    teamsAppPasswordInVault: teamsBot == 'SingleTenant'
    botIdentityId: teamsBot == 'UserAssignedMSI' ? botIdentity.id : ''
  }
}

module bot 'modules/bot.bicep' = if (teamsBot != 'none') {
  name: 'bot'
  params: {
    name: 'bot-lyncdr-${token}'
    tags: tags
    endpoint: 'https://${app.outputs.defaultHostName}/api/messages'
    appType: teamsBot == 'UserAssignedMSI' ? 'UserAssignedMSI' : 'SingleTenant'
    appId: botAppId
    msiResourceId: teamsBot == 'UserAssignedMSI' ? botIdentity.id : ''
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    principalId: app.outputs.principalId
    storageAccountName: storage.outputs.name
    serviceBusName: bus.outputs.name
    keyVaultName: vault.outputs.name
    operatorsGroupObjectId: operatorsGroupObjectId
  }
}

module workerRbac 'modules/worker-rbac.bicep' = {
  name: 'worker-rbac'
  params: {
    serviceBusName: bus.outputs.name
    sites: sites
    workerPrincipals: workerPrincipals
  }
}

output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output SERVICE_BUS_NAMESPACE string = bus.outputs.name
output KEY_VAULT_URI string = vault.outputs.uri
