// The channels the notify activity sends through: channel name -> a factory of its sender, which
// answers undefined when the channel is not configured (its settings are absent).
import type { ChannelSender } from '../../shared/runs/notifications.js';
import { TeamsSender } from './teams/sender.js';
import { teamsSettings } from './teams/settings.js';

export type SenderFactory = (env?: NodeJS.ProcessEnv) => ChannelSender | undefined;

export const CHANNEL_SENDERS: Record<string, SenderFactory> = {
  teams: (env = process.env) => {
    const s = teamsSettings(env);
    return s ? TeamsSender.fromSettings(s, env) : undefined;
  },
};
