// User homing, user data and Response Group commands (runbooks 1, 9).
import { z } from 'zod';
import { arg, defineCommand, ps } from './define.js';
import { fqdn, recordedKey, sipAddress, sipUserFilter, windowsPath } from './values.js';

export const usersList = defineCommand({
  name: 'users.listByPool',
  kind: 'powershell',
  summary: 'Users homed on a Registrar pool (Get-CsUser -Filter {RegistrarPool -eq ...}).',
  params: z.strictObject({ registrarPool: fqdn }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { registrarPool: 'eepool1.contoso.com' },
  // The filter is built from a validated FQDN only; no caller text reaches it.
  build: (p) => ps('Get-CsUser', [arg.value('Filter', `RegistrarPool -eq "${p.registrarPool}"`)]),
});

export const usersGet = defineCommand({
  name: 'users.get',
  kind: 'powershell',
  summary: 'One user (Get-CsUser -Identity).',
  params: z.strictObject({ identity: sipAddress }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { identity: 'sip:kenmyer@contoso.com' },
  build: (p) => ps('Get-CsUser', [arg.value('Identity', p.identity)]),
});

export const usersPoolInfo = defineCommand({
  name: 'users.poolInfo',
  kind: 'powershell',
  summary: "A user's primary and backup Registrar pools (Get-CsUserPoolInfo); -LocalStore reads the local CMS replica.",
  params: z.strictObject({ identity: sipAddress, localStore: z.boolean().default(false) }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { identity: 'sip:lyncdr.test1@contoso.com', localStore: true },
  build: (p) => ps('Get-CsUserPoolInfo', [arg.value('Identity', p.identity), p.localStore && arg.switch('LocalStore')]),
});

export const usersMove = defineCommand({
  name: 'users.move',
  kind: 'powershell',
  summary: 'Rehome a batch of users on another pool (Move-CsUser); with force the contact lists are lost.',
  params: z.strictObject({
    identities: z.array(sipAddress).min(1).max(500, 'move at most 500 users per command so progress can be counted'),
    targetPoolFqdn: fqdn,
    // Forced when the source pool is down: only the home server attribute changes.
    force: z.boolean().default(true),
  }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { identities: ['sip:kenmyer@contoso.com', 'sip:pilar@contoso.com'], targetPoolFqdn: 'drse1.contoso.com' },
  build: (p) =>
    ps('Move-CsUser', [arg.value('Target', p.targetPoolFqdn), p.force && arg.switch('Force'), arg.noConfirm()], {
      parameter: 'Identity',
      values: p.identities,
    }),
});

export const usersMoveRecorded = defineCommand({
  name: 'users.moveRecorded',
  kind: 'powershell',
  summary: 'Rehome items from..to of the user list a pre-flight recorded (Get-CsUser output kept by the worker); the worker runs it as users.move with those users.',
  params: z.strictObject({
    recorded: recordedKey,
    /** Zero-based, end exclusive: at most 500 users, as users.move. */
    from: z.number().int().min(0).max(1_000_000),
    to: z.number().int().min(1).max(1_000_000),
    targetPoolFqdn: fqdn,
    force: z.boolean().default(true),
  }).refine((p) => p.to > p.from && p.to - p.from <= 500, 'from..to: 1 to 500 users, from < to'),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { recorded: 'legacy.usersToMove', from: 0, to: 500, targetPoolFqdn: 'drse1.contoso.com' },
  // Display only: the worker replaces the invocation with users.move and the recorded identities
  // before anything is rendered or run, so this line is what the operator reads in the plan.
  build: (p) =>
    ps('Move-CsUser', [arg.value('Target', p.targetPoolFqdn), p.force && arg.switch('Force'), arg.noConfirm()], {
      parameter: 'Identity',
      values: [`${p.recorded}[${p.from}..${p.to - 1}].SipAddress`],
    }),
});

const zipPath = windowsPath.refine((s) => /\.zip$/i.test(s), 'must name a .zip file');

export const userDataExport = defineCommand({
  name: 'userdata.export',
  kind: 'powershell',
  summary: 'Export user data (contacts, meetings, settings) of a pool (Export-CsUserData).',
  params: z.strictObject({ poolFqdn: fqdn, fileName: zipPath, legacyFormat: z.boolean().default(false) }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { poolFqdn: 'eepool1.contoso.com', fileName: '\\\\fs-west.contoso.com\\userdata\\eepool1.zip' },
  build: (p) => ps('Export-CsUserData', [arg.value('PoolFqdn', p.poolFqdn), arg.value('FileName', p.fileName), p.legacyFormat && arg.switch('LegacyFormat')]),
});

export const userDataImport = defineCommand({
  name: 'userdata.import',
  kind: 'powershell',
  summary: 'Import exported user data into a pool (Import-CsUserData).',
  params: z.strictObject({ poolFqdn: fqdn, fileName: zipPath, legacyFormat: z.boolean().default(false), userFilter: sipUserFilter.optional() }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { poolFqdn: 'drse1.contoso.com', fileName: '\\\\fs-west.contoso.com\\userdata\\eepool1.zip' },
  build: (p) =>
    ps('Import-CsUserData', [
      arg.value('PoolFqdn', p.poolFqdn),
      arg.value('FileName', p.fileName),
      p.legacyFormat && arg.switch('LegacyFormat'),
      p.userFilter && arg.value('UserFilter', p.userFilter),
    ]),
});

export const userDataUpdate = defineCommand({
  name: 'userdata.update',
  kind: 'powershell',
  summary: 'Merge exported user data into live users (Update-CsUserData).',
  params: z.strictObject({ fileName: zipPath, userFilter: sipUserFilter.optional() }),
  effect: 'idempotent',
  supportsWhatIf: true,
  example: { fileName: '\\\\fs-west.contoso.com\\userdata\\eepool1.zip', userFilter: 'kenmyer@contoso.com' },
  build: (p) => ps('Update-CsUserData', [arg.value('FileName', p.fileName), p.userFilter && arg.value('UserFilter', p.userFilter), arg.noConfirm()]),
});

export const rgsExport = defineCommand({
  name: 'rgs.export',
  kind: 'powershell',
  summary: 'Export Response Group configuration of a pool (Export-CsRgsConfiguration); fails if the file exists.',
  params: z.strictObject({ sourcePoolFqdn: fqdn, ownerPoolFqdn: fqdn.optional(), fileName: zipPath }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { sourcePoolFqdn: 'eepool2.contoso.com', ownerPoolFqdn: 'eepool1.contoso.com', fileName: 'D:\\RgsBackup\\eepool1-rgs.zip' },
  build: (p) =>
    ps('Export-CsRgsConfiguration', [
      arg.value('Source', `ApplicationServer:${p.sourcePoolFqdn}`),
      p.ownerPoolFqdn && arg.value('Owner', `ApplicationServer:${p.ownerPoolFqdn}`),
      arg.value('FileName', p.fileName),
    ]),
});

export const rgsImport = defineCommand({
  name: 'rgs.import',
  kind: 'powershell',
  summary: 'Import Response Group configuration into a pool (Import-CsRgsConfiguration).',
  params: z.strictObject({
    destinationPoolFqdn: fqdn,
    fileName: zipPath,
    overwriteOwner: z.boolean().default(true),
    resolveNameConflicts: z.boolean().default(false),
  }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { destinationPoolFqdn: 'drse1.contoso.com', fileName: 'D:\\RgsBackup\\eepool1-rgs.zip' },
  build: (p) =>
    ps('Import-CsRgsConfiguration', [
      arg.value('Destination', `ApplicationServer:${p.destinationPoolFqdn}`),
      arg.value('FileName', p.fileName),
      p.overwriteOwner && arg.switch('OverwriteOwner'),
      p.resolveNameConflicts && arg.switch('ResolveNameConflicts'),
    ]),
});
