// @azure/functions is a webpack-built CommonJS bundle: Node's ESM loader cannot see its classes
// as named exports (only some functions), so they are taken from the default export here.
import azureFunctions from '@azure/functions';

export const { InvocationContext, HttpRequest, HttpResponse } = azureFunctions;
export type InvocationContext = InstanceType<typeof azureFunctions.InvocationContext>;
export type HttpRequest = InstanceType<typeof azureFunctions.HttpRequest>;
export type HttpResponse = InstanceType<typeof azureFunctions.HttpResponse>;
export type { HttpResponseInit } from '@azure/functions';
