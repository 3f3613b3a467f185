"""Signals grc.base sends to the apps built on it (which grc.base must not import)."""

from django.dispatch import Signal

# A citizen record's details changed (name, e-mail, phones, address), inside the transaction of
# the change: what is derived from them elsewhere (the dossiers' search text) follows.
# Sent with `usager` (the saved record).
usager_changed = Signal()
