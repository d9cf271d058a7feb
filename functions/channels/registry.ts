// The channels the notify activity tells people on: LYNCDR_CHANNELS names them (a comma list or a
// JSON list of `teams`, `email`; unset or empty: none), and this map makes each one's sender. A
// channel's own settings are parsed in its module (functions/channels/<name>/settings.ts), when
// it is configured, so an unused channel needs no settings at all.
import { z } from 'zod';
import type { ChannelSender } from '../../shared/runs/notifications.js';
import { createEmailSender } from './email/sender.js';
import { TeamsSender } from './teams/sender.js';
import { teamsSettings } from './teams/settings.js';

export const CHANNEL_NAMES = ['teams', 'email'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** A channel's sender; undefined when the channel's own settings are absent (reported, skipped). */
export type SenderFactory = (env: NodeJS.ProcessEnv) => ChannelSender | undefined;

export const SENDER_FACTORIES: Record<ChannelName, SenderFactory> = {
  email: (env) => createEmailSender({ env }),
  teams: (env) => {
    const s = teamsSettings(env);
    return s ? TeamsSender.fromSettings(s, env) : undefined;
  },
};
/** The name the Teams channel gave this map. */
export const CHANNEL_SENDERS = SENDER_FACTORIES;

const Names = z.array(z.enum(CHANNEL_NAMES));

/** The configured channels, in order, each once. Throws on a name that is not a channel. */
export function configuredChannels(env: NodeJS.ProcessEnv = process.env): ChannelName[] {
  const raw = (env.LYNCDR_CHANNELS ?? '').trim();
  if (!raw) return [];
  let list: unknown;
  if (raw.startsWith('[')) {
    try { list = JSON.parse(raw); } catch (err) { throw new Error(`LYNCDR_CHANNELS is not a JSON list: ${(err as Error).message}`); }
  } else {
    list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
  const r = Names.safeParse(list);
  if (!r.success) throw new Error(`LYNCDR_CHANNELS: ${r.error.issues.map((i) => i.message).join('; ')} (channels: ${CHANNEL_NAMES.join(', ')})`);
  return [...new Set(r.data)];
}

const senders = new Map<string, ChannelSender>();

/**
 * The senders of the configured channels, made once per process and settings (a sender keeps its
 * SMTP connection pool or its tokens). A channel named but without its settings (Teams) is reported as missing.
 */
export function configuredSenders(env: NodeJS.ProcessEnv = process.env): { senders: ChannelSender[]; missing: ChannelName[] } {
  const out: ChannelSender[] = [];
  const missing: ChannelName[] = [];
  for (const name of configuredChannels(env)) {
    const cacheKey = `${name}:${settingsFingerprint(env)}`;
    let s = senders.get(cacheKey);
    if (!s) {
      s = SENDER_FACTORIES[name](env);
      if (!s) { missing.push(name); continue; }
      senders.set(cacheKey, s);
    }
    out.push(s);
  }
  return { senders: out, missing };
}

// Tests change settings between hosts in one process: a sender is reused only for the same ones.
const settingsFingerprint = (env: NodeJS.ProcessEnv) => JSON.stringify(Object.entries(env).filter(([k]) => k.startsWith('LYNCDR_') || k === 'AzureWebJobsStorage').sort());
