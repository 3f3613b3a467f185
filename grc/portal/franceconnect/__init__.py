"""FranceConnect login: OpenID Connect's authorization code flow with FranceConnect (v2) as the
provider. `client` speaks the protocol, `services` maps the identity pivot to the account and
its profile, `views` are the pages (start, return, linking an existing account, logout)."""
