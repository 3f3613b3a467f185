"""The JSON endpoints that other systems call, under /api/canaux/ (django-ninja, OpenAPI at
/api/canaux/docs). Each is authenticated by its own shared secret, never by a session."""
