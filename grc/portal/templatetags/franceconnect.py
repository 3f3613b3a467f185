"""FranceConnect in templates: whether its button shows, and whether the session was opened
through it (then logging out goes through FranceConnect too: `franceconnect_logout`)."""

from django import template

from grc.portal.franceconnect import client
from grc.portal.franceconnect.views import ID_TOKEN

register = template.Library()


@register.simple_tag
def franceconnect_enabled() -> bool:
    return client.enabled()


@register.simple_tag(takes_context=True)
def franceconnect_session(context) -> bool:
    request = context.get("request")
    return bool(request is not None and request.session.get(ID_TOKEN))
