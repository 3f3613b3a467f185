// A local OpenID Connect provider that behaves like FranceConnect (v2), for GRC's tests only.
//
//   node server.js            listens on a free port of 127.0.0.1 and prints
//                             "listening on http://127.0.0.1:PORT" once discovery answers.
//   PORT=9000 node server.js  listens on that port.
//
// Like FranceConnect: authorization code flow, client_secret_post, ID token signed RS256,
// userinfo answered as a signed JWT (ES256, application/jwt), the identity pivot claims asked
// for by scope (given_name, family_name, birthdate, gender, birthplace, birthcountry),
// acr "eidas1", a pairwise `sub`, and RP-initiated logout. Unlike FranceConnect: any
// redirect URI on a test host is accepted (the Django live server takes a random port), and
// the login page lets the test pick a person with one click.

import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

export const CLIENT_ID = process.env.OIDC_CLIENT_ID || 'grc-test';
export const CLIENT_SECRET = process.env.OIDC_CLIENT_SECRET || 'grc-test-secret-0123456789abcdef';
const CALLBACK_PATH = '/comptes/franceconnect/retour/';
const TEST_HOSTS = new Set(['127.0.0.1', 'localhost', 'testserver']);

// The people known to this provider: FranceConnect's identity pivot and a few more claims.
const PEOPLE = {
  angela: {
    given_name: 'Angela Claire Louise',
    family_name: 'DUBOIS',
    preferred_username: '',
    birthdate: '1962-08-24',
    gender: 'female',
    birthplace: '75107',
    birthcountry: '99100',
    email: 'angela.dubois@fc.test',
  },
  pierre: {
    given_name: 'Pierre',
    family_name: 'MERCIER',
    preferred_username: 'DUBOIS-MERCIER',
    birthdate: '1990-01-05',
    gender: 'male',
    birthplace: '',
    birthcountry: '99134',
    email: 'pierre.mercier@fc.test',
  },
};
const PIVOT = Object.keys(PEOPLE.angela);

function jwk(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  const key = privateKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify(key)).digest('base64url').slice(0, 16);
  return { ...key, alg, use: 'sig', kid };
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} – fournisseur d'identité de test</title>
  <style>
    body { font-family: sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
    button { font-size: 1rem; padding: .5rem 1rem; margin: .25rem 0; }
    fieldset { margin-bottom: 1rem; }
  </style>
</head>
<body>
  <main>
    <h1>${escapeHtml(title)}</h1>
    ${body}
  </main>
</body>
</html>`;
}

function configuration() {
  return {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`http://testserver${CALLBACK_PATH}`],
        post_logout_redirect_uris: ['http://testserver/comptes/franceconnect/deconnexion/fin/'],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'RS256',
        userinfo_signed_response_alg: 'ES256',
        subject_type: 'pairwise',
      },
    ],
    jwks: {
      keys: [
        jwk('rsa', { modulusLength: 2048 }, 'RS256'),
        jwk('ec', { namedCurve: 'P-256' }, 'ES256'),
      ],
    },
    cookies: { keys: ['grc-test-provider-cookie-key'] },
    scopes: ['openid', ...PIVOT],
    // FranceConnect names a scope after each claim it releases.
    claims: Object.fromEntries([['openid', ['sub']], ...PIVOT.map((name) => [name, [name]])]),
    acrValues: ['eidas1'],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (ctx, accountId, client) =>
      createHash('sha256')
        .update(`${client.sectorIdentifier}:${accountId}:grc-test-salt`)
        .digest('hex'),
    responseTypes: ['code'],
    pkce: { required: () => false },
    features: {
      devInteractions: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page(
            'Se déconnecter',
            `${form}
            <p>Voulez-vous vous déconnecter du fournisseur d'identité de test ?</p>
            <button type="submit" form="op.logoutForm" value="yes" name="logout">Me déconnecter</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Déconnecté', '<p>Vous êtes déconnecté.</p>');
        },
      },
    },
    findAccount: async (ctx, id) => {
      const person = PEOPLE[id];
      if (!person) {
        return undefined;
      }
      return { accountId: id, claims: async () => ({ sub: id, ...person }) };
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Erreur', `<pre>${escapeHtml(JSON.stringify(out, null, 2))}</pre>`);
    },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600 },
  };
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
  }
  return new URLSearchParams(body);
}

// The login (and consent) page: one form per person, and a way to refuse.
async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, params } = details;
  const action = req.url.split('?')[0].split('/')[3] || '';
  if (req.method === 'GET' && !action) {
    const people = Object.entries(PEOPLE)
      .map(
        ([id, p], index) =>
          `<p><input type="radio" id="person-${id}" name="person" value="${id}"${index === 0 ? ' checked' : ''}>
           <label for="person-${id}">${escapeHtml(`${p.given_name} ${p.family_name}`)}</label></p>`,
      )
      .join('\n');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(
      page(
        'Connexion au fournisseur de test',
        `<p>Application : ${escapeHtml(params.client_id)}</p>
        <form method="post" action="/interaction/${uid}/login">
          <fieldset><legend>Se connecter en tant que</legend>${people}</fieldset>
          <button type="submit">Se connecter et autoriser</button>
        </form>
        <form method="post" action="/interaction/${uid}/abort">
          <button type="submit">Refuser</button>
        </form>`,
      ),
    );
    return;
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const accountId = form.get('person') || 'angela';
    if (!PEOPLE[accountId]) {
      res.statusCode = 400;
      res.end('unknown person');
      return;
    }
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId, acr: 'eidas1', amr: ['pwd'] }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (req.method === 'POST' && action === 'abort') {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: "L'usager a refusé la connexion." },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  res.statusCode = 404;
  res.end('not found');
}

let provider;
const server = createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(provider, req, res).catch((error) => {
      res.statusCode = 400;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`interaction error: ${error.message}`);
    });
    return;
  }
  provider.callback()(req, res);
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, configuration());
  // Tests run GRC on random ports (and as "testserver"): accept the callback on any of them.
  const allowed = (value, path) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' && TEST_HOSTS.has(url.hostname) && url.pathname === path;
    } catch {
      return false;
    }
  };
  provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
    return allowed(value, CALLBACK_PATH);
  };
  provider.Client.prototype.postLogoutRedirectUriAllowed = function logoutAllowed(value) {
    return allowed(value, '/comptes/franceconnect/deconnexion/fin/');
  };
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  console.log(`listening on ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
