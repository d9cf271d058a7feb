// The e-mail channel's settings: what it refuses to start with, and what it defaults.
import { describe, expect, it } from 'vitest';
import { emailSettings, linkSettings } from '../../functions/channels/email/settings.js';

const base = {
  LYNCDR_SMTP_HOST: 'smtp.azurecomm.net', LYNCDR_MAIL_FROM: 'DoNotReply@contoso.com', LYNCDR_LINK_KEY: 'k'.repeat(32), LYNCDR_PUBLIC_URL: 'https://lyncdr.azurewebsites.net/',
};

describe('email settings', () => {
  it('defaults: port 587 with STARTTLS, no auth, 24 h links, the default tables; the public URL without its trailing slash', () => {
    expect(emailSettings(base)).toMatchObject({
      smtp: { host: 'smtp.azurecomm.net', port: 587, secure: false }, timeoutMinutes: 1440, linksTable: 'LyncdrLinks', notificationsTable: 'LyncdrNotifications',
      publicUrl: 'https://lyncdr.azurewebsites.net', addresses: {},
    });
    expect(emailSettings({ ...base, LYNCDR_SMTP_PORT: '465', LYNCDR_SMTP_SECURE: 'true', LYNCDR_SMTP_USER: 'u', LYNCDR_SMTP_PASSWORD: 'p', LYNCDR_EMAIL_ADDRESSES: '{"Alice":"alice@contoso.com"}' }))
      .toMatchObject({ smtp: { port: 465, secure: true, user: 'u', password: 'p' }, addresses: { alice: 'alice@contoso.com' } });
  });

  it('refuses a missing host or sender, a short or unresolved key, a user without a password, bad addresses', () => {
    expect(() => emailSettings({ ...base, LYNCDR_SMTP_HOST: '' })).toThrow(/LYNCDR_SMTP_HOST/);
    expect(() => emailSettings({ ...base, LYNCDR_MAIL_FROM: undefined })).toThrow(/LYNCDR_MAIL_FROM/);
    expect(() => linkSettings({ LYNCDR_LINK_KEY: 'short' })).toThrow(/at least 32/);
    expect(() => linkSettings({ LYNCDR_LINK_KEY: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/link-key)' })).toThrow(/unresolved Key Vault reference/);
    expect(() => emailSettings({ ...base, LYNCDR_SMTP_USER: 'u' })).toThrow(/both LYNCDR_SMTP_USER and LYNCDR_SMTP_PASSWORD/);
    expect(() => emailSettings({ ...base, LYNCDR_EMAIL_ADDRESSES: '{"alice":"not an address"}' })).toThrow(/LYNCDR_EMAIL_ADDRESSES/);
    expect(() => emailSettings({ ...base, LYNCDR_SMTP_SECURE: 'yes' })).toThrow(/LYNCDR_SMTP_SECURE/);
  });
});
