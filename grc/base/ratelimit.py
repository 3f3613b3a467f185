"""Rate limits of our own (allauth limits logins and sign-ups itself): tracking-code lookups
and submissions. Counters live in the shared cache (PostgreSQL), by fixed windows.

Limits are written as allauth's are: "10/10m/ip" = 10 per 10 minutes per client address;
several limits separated by commas all apply. Units: s, m, h, d."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext as _

_RULE = re.compile(r"^(\d+)/(\d*)([smhd])/(ip|key|user)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rule:
    amount: int
    seconds: int
    per: str


def parse(spec: str) -> list[Rule]:
    rules = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = _RULE.match(part)
        if not match:
            raise ValueError(f"bad rate limit {part!r} (expected e.g. '10/10m/ip')")
        amount, count, unit, per = match.groups()
        rules.append(Rule(int(amount), int(count or 1) * _UNITS[unit], per))
    return rules


def client_ip(request) -> str:
    # Behind the production proxy, REMOTE_ADDR is the proxy: the proxy's X-Forwarded-For
    # (its last hop, which the proxy itself wrote) names the client.
    if settings.PRODUCTION:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def consume(request, action: str, *, key: str = "") -> bool:
    """Count one attempt of `action`; False when a limit is reached (nothing is counted then,
    so that waiting is enough). `key` is what "key" rules count by (an e-mail, a reference)."""
    spec = settings.GRC_RATE_LIMITS.get(action, "")
    now = int(time.time())
    cache_keys = []
    for rule in parse(spec):
        if rule.per == "ip":
            who = client_ip(request)
        elif rule.per == "user":
            who = str(request.user.pk) if request.user.is_authenticated else client_ip(request)
        else:
            who = key
        if not who:
            continue
        digest = hashlib.sha256(who.encode()).hexdigest()[:32]
        window = now // rule.seconds
        cache_key = f"rl:{action}:{rule.per}:{rule.seconds}:{window}:{digest}"
        if (cache.get(cache_key) or 0) >= rule.amount:
            return False
        cache_keys.append((cache_key, rule.seconds))
    for cache_key, seconds in cache_keys:
        # add() then incr(): the first attempt creates the counter, later ones count up.
        if not cache.add(cache_key, 1, timeout=seconds + 1):
            try:
                cache.incr(cache_key)
            except ValueError:  # expired between add and incr
                cache.set(cache_key, 1, timeout=seconds + 1)
    return True


def refusal(request, *, what: str = ""):
    """The page a person sees when a limit is reached: 429, what happened and what to do."""
    return render(
        request,
        "rate_limited.html",
        {
            "what": what
            or _("Vous avez fait beaucoup d'essais en peu de temps, pour votre sécurité."),
        },
        status=429,
    )
