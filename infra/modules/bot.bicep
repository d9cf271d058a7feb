// The Azure Bot that carries the Teams channel (README "Microsoft Teams"): Bot Framework sends the
// channel's activities to the Function App's /api/messages (which authenticates each one itself),
// and the app posts cards through the Bot Connector with a token for the bot's identity: an Entra
// app registration of this tenant (SingleTenant, its secret in Key Vault) or a user-assigned
// managed identity given to the Function App (UserAssignedMSI, no secret at all).
param name string
param tags object

@description('The bot\'s messaging endpoint: https://<app>/api/messages.')
param endpoint string

@allowed([ 'SingleTenant', 'UserAssignedMSI' ])
param appType string

@description('The bot\'s app (client) id: the app registration\'s, or the managed identity\'s client id.')
param appId string

@description('Resource id of the user-assigned managed identity (UserAssignedMSI only).')
param msiResourceId string = ''

@description('F0 is free; S1 only matters for premium channels (Teams is a standard channel).')
@allowed([ 'F0', 'S1' ])
param sku string = 'F0'

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: name
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: { name: sku }
  properties: {
    displayName: 'lyncdr'
    endpoint: endpoint
    msaAppId: appId
    msaAppType: appType
    msaAppTenantId: tenant().tenantId
    msaAppMSIResourceId: appType == 'UserAssignedMSI' ? msiResourceId : null
    publicNetworkAccess: 'Enabled'
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

output name string = bot.name
