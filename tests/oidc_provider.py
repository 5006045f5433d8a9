"""A small OpenID Connect provider on a localhost port, for the browser test of `st.login`.

It speaks the authorisation-code flow that Streamlit's login (Authlib) uses: discovery,
`/authorize` (which logs in whoever the test chose, instead of showing a login page, and
sends the browser back with a code), `/token` (which checks the code, the client's secret
and the PKCE verifier, and returns an RS256-signed ID token carrying the request's nonce)
and `/jwks` (the public key Authlib verifies the signature with). Signing is joserfc's."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID, CLIENT_SECRET = "genlab-test", "not-a-real-secret"


class Provider:
    """The provider's state: its key, the user it logs in next, and the codes it handed out."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.user: dict = {}
        self.codes: dict[str, dict] = {}

    def metadata(self) -> dict:
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"]}

    def authorize(self, query: dict[str, str]) -> str:
        """Where the browser goes next: back to the app with a one-time code."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = dict(query)
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def token(self, form: dict[str, str], basic: str | None) -> dict | None:
        """The tokens for a valid code, or None (a code is used once)."""
        asked = self.codes.pop(form.get("code", ""), None)
        client = base64.b64decode(basic).decode() if basic else f"{form.get('client_id')}:{form.get('client_secret')}"
        if (asked is None or client != f"{CLIENT_ID}:{CLIENT_SECRET}"
                or form.get("redirect_uri") != asked["redirect_uri"]):
            return None
        verifier = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        challenge = base64.urlsafe_b64encode(verifier).rstrip(b"=").decode()
        if "code_challenge" in asked and challenge != asked["code_challenge"]:
            return None
        now = int(time.time())
        claims = {"iss": self.url, "aud": CLIENT_ID, "sub": self.user["email"], "iat": now, "exp": now + 600,
                  "nonce": asked.get("nonce"), **self.user}
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        return {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 600,
                "id_token": id_token}


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(provider.metadata())
            elif url.path == "/jwks":
                self._json({"keys": [provider.key.as_dict(private=False)]})
            elif url.path == "/authorize" and query.get("client_id") == CLIENT_ID:
                self.send_response(302)
                self.send_header("Location", provider.authorize(query))
                self.end_headers()
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
            auth = self.headers.get("Authorization", "")
            tokens = provider.token(form, auth.removeprefix("Basic ") if auth.startswith("Basic ") else None)
            self._json(tokens if tokens else {"error": "invalid_grant"}, 200 if tokens else 400)

        def _json(self, body: dict, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # quiet
            pass

    return Handler


@contextmanager
def oidc_provider() -> Iterator[Provider]:
    """A provider on a free localhost port, serving in a thread until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    provider = Provider(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def secrets_toml(provider: Provider, app_url: str) -> str:
    """The `[auth]` section of .streamlit/secrets.toml that points st.login at the provider."""
    return (f'[auth]\nredirect_uri = "{app_url}/oauth2callback"\ncookie_secret = "{secrets.token_hex(16)}"\n'
            f'client_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{provider.url}/.well-known/openid-configuration"\n')
