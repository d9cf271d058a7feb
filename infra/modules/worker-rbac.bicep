// Service Bus rights of the on-prem workers, per site and per queue. The namespace has local (SAS)
// authentication disabled, so there are no SAS rules: rights are Entra role assignments scoped to
// a queue. A site's worker receives only from lyncdr-commands-<site>; it must send to the one
// lyncdr-results queue, and Service Bus cannot restrict what a sender writes in a message, so any
// worker could send a result naming another site. That is why each result is also signed with its
// site's key (Key Vault secret result-key-<site>) and the app refuses what does not verify.
param serviceBusName string
param sites array
@description('Worker identity (Entra object id) by site.')
param workerPrincipals object

var roles = {
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
}
var withWorker = filter(sites, site => contains(workerPrincipals, site))

resource bus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = { name: serviceBusName }
resource commands 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' existing = [for site in withWorker: { parent: bus, name: 'lyncdr-commands-${site}' }]
resource results 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' existing = { parent: bus, name: 'lyncdr-results' }
resource health 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' existing = { parent: bus, name: 'lyncdr-health' }

resource receiveCommands 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (site, i) in withWorker: {
  name: guid(commands[i].id, workerPrincipals[site], roles.serviceBusDataReceiver)
  scope: commands[i]
  properties: { principalId: workerPrincipals[site], principalType: 'ServicePrincipal', roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver) }
}]

resource sendResults 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for site in withWorker: {
  name: guid(results.id, workerPrincipals[site], roles.serviceBusDataSender)
  scope: results
  properties: { principalId: workerPrincipals[site], principalType: 'ServicePrincipal', roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender) }
}]

resource sendHealth 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for site in withWorker: {
  name: guid(health.id, workerPrincipals[site], roles.serviceBusDataSender)
  scope: health
  properties: { principalId: workerPrincipals[site], principalType: 'ServicePrincipal', roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender) }
}]
