// A real OpenID provider for the sign-in tests: the certified `oidc-provider` on loopback.
// Configured by environment (set by tests/oidc_fixture.py): OIDC_PORT, OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, OIDC_LOGOUT_URI and OIDC_ACCOUNTS (JSON: login -> claims;
// an account's `userinfo_only` claims are given by the UserInfo endpoint and never put in the ID
// token, as NHS CIS2 gives its national RBAC roles). Its development login and consent pages take
// any password: the accounts say who exists.
import Provider from 'oidc-provider';

const env = process.env;
const port = Number(env.OIDC_PORT);
const accounts = JSON.parse(env.OIDC_ACCOUNTS || '{}');

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: env.OIDC_CLIENT_ID,
    client_secret: env.OIDC_CLIENT_SECRET,
    redirect_uris: [env.OIDC_REDIRECT_URI],
    post_logout_redirect_uris: [env.OIDC_LOGOUT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    hubnet: ['groups', 'roles', 'org_code'],
    // NHS CIS2's scopes and claim names
    nhsperson: ['nhsid_useruid'],
    nationalrbacaccess: ['nhsid_nrbac_roles'],
    associatedorgs: ['nhsid_user_orgs'],
    selectedrole: ['selected_roleid'],
  },
  scopes: ['openid', 'profile', 'hubnet', 'nhsperson', 'nationalrbacaccess', 'associatedorgs', 'selectedrole'],
  conformIdTokenClaims: false, // the ID token carries the scopes' claims, as Entra ID does
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['hubnet-test-only-cookie-key'] },
  async findAccount(ctx, id) {
    if (!accounts[id]) return undefined;
    const { userinfo_only: userinfoOnly, ...always } = accounts[id];
    return {
      accountId: id,
      async claims(use) {
        return { sub: id, ...always, ...(use === 'userinfo' ? userinfoOnly : {}) };
      },
    };
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
