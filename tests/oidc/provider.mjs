// A real OpenID provider (the npm package oidc-provider) for dsr's sign-on tests, on a loopback port.
// Accounts: whatever login is typed in the provider's own (development) login form; its claims come from
// ACCOUNTS (JSON: {"login": {"email": ..., "dsr_role": ...}}). One confidential client for dsr.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: process.env.OIDC_REDIRECT_URIS.split(' '),
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], dsr: ['dsr_role'] },
  scopes: ['openid', 'email', 'profile', 'dsr'],
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email_verified: true, name: id, ...(accounts[id] || {}) }),
  }),
  // Loopback http is fine for a test provider; the default cookies want https.
  cookies: { keys: ['dsr-test-oidc-cookie-key'] },
  loadExistingGrant: async (ctx) => {
    // Consent is implied for dsr's one client: every requested scope and claim is granted.
    const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile dsr');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'dsr_role']);
    await grant.save();
    return grant;
  },
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
