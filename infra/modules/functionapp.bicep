// Flex Consumption Function App with a system-assigned identity; every connection is identity
// based (the "__credential" / "__fullyQualifiedNamespace" settings), so no key leaves Azure.
param name string
param location string
param tags object
param storageAccountName string
param appInsightsConnectionString string
param serviceBusNamespace string
param keyVaultUri string
param entraClientId string
param operators array
param approvalPolicies object
@description('LYNCDR_SCHEDULES: the app refuses to start with an entry it cannot run (README "Schedules").')
param schedules array = []

@description('Lync sites with a worker: each site\'s result key is the Key Vault secret result-key-<site> (LYNCDR_RESULT_KEY_<SITE>).')
param sites array = []

@description('Channels the notify activity uses (LYNCDR_CHANNELS): teams, email; empty: none.')
param channels array = []

@description('The Teams bot\'s app (client) id (LYNCDR_TEAMS_APP_ID); empty: the Teams channel is off.')
param teamsAppId string = ''

@description('The bot\'s client secret is the Key Vault secret teams-app-password (SingleTenant); false with a managed identity.')
param teamsAppPasswordInVault bool = false

@description('Resource id of the bot\'s user-assigned managed identity, given to the app beside its own (UserAssignedMSI).')
param botIdentityId string = ''

@description('The e-mail channel\'s SMTP relay (LYNCDR_SMTP_HOST), e.g. smtp.azurecomm.net for Azure Communication Services; empty: no SMTP settings.')
param smtpHost string = ''

@description('SMTP user name (LYNCDR_SMTP_USER); its password is the Key Vault secret smtp-password.')
param smtpUser string = ''

@description('The From address of lyncdr\'s mail (LYNCDR_MAIL_FROM).')
param mailFrom string = ''

var teams = !empty(teamsAppId)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  // The system identity does everything else; the bot's user-assigned identity (UserAssignedMSI)
  // only gets the Bot Connector token (the app asks for it by the bot's client id).
  identity: empty(botIdentityId) ? { type: 'SystemAssigned' } : { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { '${botIdentityId}': {} } }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: 'https://${storageAccountName}.blob.${environment().suffixes.storage}/app-package'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      // Node 22 LTS: Node 20 reached end of life on 2026-04-30, and the Azure Storage SDKs the app
      // uses declare Node >= 22. CI runs the tests on Node 22 as well as on the dev box's Node 20.
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat([
        { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: serviceBusNamespace }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'LYNCDR_TASK_HUB', value: 'LyncdrProd' }
        { name: 'LYNCDR_TRANSPORT', value: 'servicebus' }
        { name: 'LYNCDR_RESULTS_QUEUE', value: 'lyncdr-results' }
        { name: 'LYNCDR_AUDIT_HMAC_KEY', value: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/audit-hmac-key)' }
        // Signs the e-mailed approval links (the email channel: README); at least 32 characters.
        { name: 'LYNCDR_LINK_KEY', value: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/link-key)' }
        // Signs every decision the API raises and every run it starts (executor version 5; README, Security).
        { name: 'LYNCDR_DECISION_KEY', value: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/decision-key)' }
        // Identities come from App Service Authentication only: the local dev header is refused.
        { name: 'LYNCDR_IDENTITY', value: 'easy-auth' }
        // People are authorised on their object id within this tenant (shared/identity). The
        // operators and approver groups name object ids; a UPN there needs an entry in the
        // LYNCDR_DIRECTORY app setting ({"upn": "object id"}), or the app refuses to start.
        { name: 'LYNCDR_TENANT_ID', value: tenant().tenantId }
        { name: 'LYNCDR_OPERATORS', value: string(operators) }
        { name: 'LYNCDR_APPROVAL_POLICIES', value: string(approvalPolicies) }
        { name: 'LYNCDR_SCHEDULES', value: string(schedules) }
        // The links on cards and in mails: the app's default host name (Flex Consumption without a
        // generated unique host name; with one, or a custom domain, set it to that).
        { name: 'LYNCDR_PUBLIC_URL', value: 'https://${name}.azurewebsites.net' }
      ],
      // A worker's results count only when signed with its site's key (README, "Results from the right worker").
      map(sites, site => { name: 'LYNCDR_RESULT_KEY_${toUpper(replace(site, '-', '_'))}', value: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/result-key-${site})' }),
      empty(channels) ? [] : [
        { name: 'LYNCDR_CHANNELS', value: join(channels, ',') }
      ], !teams ? [] : [
        { name: 'LYNCDR_TEAMS_APP_ID', value: teamsAppId }
        // The token endpoint's tenant, and activities from other tenants are refused.
        { name: 'LYNCDR_TEAMS_TENANT_ID', value: tenant().tenantId }
      ], !(teams && teamsAppPasswordInVault) ? [] : [
        { name: 'LYNCDR_TEAMS_APP_PASSWORD', value: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/teams-app-password)' }
      ], empty(smtpHost) ? [] : [
        // STARTTLS on 587 (ACS' SMTP relay and most relays); the password never leaves Key Vault.
        { name: 'LYNCDR_SMTP_HOST', value: smtpHost }
        { name: 'LYNCDR_SMTP_PORT', value: '587' }
        { name: 'LYNCDR_SMTP_SECURE', value: 'false' }
        { name: 'LYNCDR_SMTP_USER', value: smtpUser }
        { name: 'LYNCDR_SMTP_PASSWORD', value: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/smtp-password)' }
        { name: 'LYNCDR_MAIL_FROM', value: mailFrom }
      ])
    }
  }
}

// Every request is signed in with Entra ID before it reaches a function; the principal arrives in
// x-ms-client-principal, which the platform strips from what clients send. Operating runs is
// limited by LYNCDR_OPERATORS and approving by the approval policies; to keep the rest of the
// tenant from even reading runs, set "Assignment required" on the app's enterprise application
// (Entra, not expressible here) and assign the operators' and approvers' groups.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    // Return401 for every path, not a login redirect: the CLI and API clients need a 401. Mailed
    // links therefore start at /.auth/login/aad?post_login_redirect_uri=/api/links/... (the
    // e-mail channel builds them so when LYNCDR_IDENTITY=easy-auth), which signs the approver in.
    // /api/health stays open for probes: it tells only whether storage is reachable. With Teams,
    // /api/messages too: Bot Framework signs in with its own JWT, which the endpoint checks itself.
    globalValidation: { requireAuthentication: true, unauthenticatedClientAction: 'Return401', excludedPaths: teams ? [ '/api/health', '/api/messages' ] : [ '/api/health' ] }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: { clientId: entraClientId, openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0' }
        // v1 tokens carry the application id URI as audience, v2 tokens the client id.
        validation: { allowedAudiences: [ 'api://${entraClientId}', entraClientId ] }
      }
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output principalId string = site.identity.principalId
