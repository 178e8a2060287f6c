// A real OpenID Connect provider (node-oidc-provider) on localhost, for the console's
// single sign-on tests and the README's local walk-through. Not for production.
//
//   node tests/oidc_provider/provider.js            # http://127.0.0.1:9400, the demo people
//
// Environment:
//   OIDC_TEST_PORT      port (9400)
//   OIDC_TEST_ISSUER    issuer URL (http://127.0.0.1:<port>)
//   OIDC_TEST_ACCOUNTS  a JSON file of accounts, read at every request, so a test can change
//                       someone's groups between two sign-ins:
//                       {"alex": {"email": "alex@corp.example", "email_verified": true,
//                                 "groups": ["agc-approvers"], "name": "Alex Doe"}}
//                       An account may also say "id_token": "wrong-audience" or
//                       "foreign-key": its ID tokens are then re-signed for another client, or
//                       with a key the provider does not publish (the refusal tests).
//   OIDC_TEST_REDIRECT_URIS  the console's callback URLs, comma-separated
//                       (http://127.0.0.1:8000/oidc/callback/,http://localhost:8000/oidc/callback/)
//
// Sign-in page: /interaction/<uid> asks for an account name and signs that account in at
// once (no password, no consent page), every time: the console's test client and browser
// choose who signs in by name. Prints "listening on <issuer>" when ready.

import { readFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import Provider, { interactionPolicy } from "oidc-provider";
import * as jose from "jose";

const PORT = Number(process.env.OIDC_TEST_PORT || 9400);
const ISSUER = process.env.OIDC_TEST_ISSUER || `http://127.0.0.1:${PORT}`;
const REDIRECT_URIS = (
  process.env.OIDC_TEST_REDIRECT_URIS ||
  "http://127.0.0.1:8000/oidc/callback/,http://localhost:8000/oidc/callback/"
)
  .split(",")
  .map((uri) => uri.trim())
  .filter(Boolean);

// The demo people of `make demo`, with the groups the README's OIDC_ROLE_MAP maps.
const DEMO_ACCOUNTS = {
  gina: { email: "gina@corp.example", email_verified: true, groups: ["agc-admins"], name: "Gina Alvarez" },
  alex: { email: "alex@corp.example", email_verified: true, groups: ["agc-approvers"], name: "Alex Kim" },
  lee: { email: "lee@corp.example", email_verified: true, groups: ["agc-leadership"], name: "Lee Morgan" },
  audrey: { email: "audrey@corp.example", email_verified: true, groups: ["agc-auditors"], name: "Audrey Flores" },
  nia: { email: "nia@corp.example", email_verified: true, groups: ["agc-approvers", "agc-auditors"], name: "Nia Okoye" },
  unverified: { email: "eve@corp.example", email_verified: false, groups: ["agc-admins"], name: "Eve Unverified" },
};

function accounts() {
  const file = process.env.OIDC_TEST_ACCOUNTS;
  return file ? JSON.parse(readFileSync(file, "utf8")) : DEMO_ACCOUNTS;
}

function newSigningKey(kid) {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
}

// A fresh key at every start: a console holding the keys of an earlier run refuses tokens.
const signingKey = newSigningKey(`test-${Date.now()}`);
const foreignKey = newSigningKey(signingKey.kid); // same kid, never published

// Ask who signs in at every authorization request, even with a provider session: one
// browser can try several accounts one after the other.
const policy = interactionPolicy.base();
policy.get("login").checks.add(
  new interactionPolicy.Check("pick_account", "the test provider asks every time", (ctx) =>
    ctx.oidc.result?.login
      ? interactionPolicy.Check.NO_NEED_TO_PROMPT
      : interactionPolicy.Check.REQUEST_PROMPT,
  ),
);

const provider = new Provider(ISSUER, {
  clients: [
    {
      client_id: "agc-console",
      client_secret: "agc-console-secret",
      redirect_uris: REDIRECT_URIS,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  jwks: { keys: [signingKey] },
  pkce: { required: () => true },
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
    groups: ["groups"],
  },
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: account.email,
          email_verified: account.email_verified,
          name: account.name,
          groups: account.groups || [],
        };
      },
    };
  },
  features: { devInteractions: { enabled: false } },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ["agc-test-provider-cookie-key"] },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// The sign-in page: pick an account by name; it is signed in and consents at once.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === "GET") {
    const names = Object.keys(accounts()).map(escape).join(", ");
    ctx.type = "html";
    ctx.body = `<!doctype html><title>Test provider: sign in</title>
<h1>Test OpenID provider</h1>
<form method="post" action="/interaction/${escape(details.uid)}">
<label for="login">Account</label> <input id="login" name="login" autofocus>
<button type="submit">Sign in</button></form><p>Accounts: ${names}</p>`;
    return;
  }
  const login = (await readForm(ctx.req)).get("login") || "";
  if (!accounts()[login]) {
    ctx.status = 400;
    ctx.type = "text";
    ctx.body = `No account named ${login}.`;
    return;
  }
  const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId: login }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
  ctx.respond = false;
});

// The refusal tests: re-sign an account's ID token for another audience, or with a key
// nobody published.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== "/token" || !ctx.body || !ctx.body.id_token) return;
  const claims = jose.decodeJwt(ctx.body.id_token);
  const mode = (accounts()[claims.sub] || {}).id_token;
  if (!mode) return;
  const key = await jose.importJWK(mode === "foreign-key" ? foreignKey : signingKey, "RS256");
  const payload = mode === "wrong-audience" ? { ...claims, aud: "another-app", azp: "another-app" } : claims;
  ctx.body = {
    ...ctx.body,
    id_token: await new jose.SignJWT(payload)
      .setProtectedHeader({ alg: "RS256", kid: signingKey.kid, typ: "JWT" })
      .sign(key),
  };
});

const server = provider.listen(PORT, "127.0.0.1", () => {
  console.log(`listening on ${ISSUER}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
