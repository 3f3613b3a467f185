"""The platform's JSON API for other systems (django-ninja)."""

from ninja import NinjaAPI

from grc.channels.api import hooks, phone, sms

channels_api = NinjaAPI(
    title="GRC – canaux",
    version="1",
    urls_namespace="channels_api",
    description=(
        "Entrées des systèmes extérieurs : téléphonie (CTI), accusés de réception des SMS, "
        "messages des canaux externes (réseaux sociaux, discussion, sites)."
    ),
)
channels_api.add_router("/telephonie/", phone.router)
channels_api.add_router("/sms/", sms.router)
channels_api.add_router("/webhooks/", hooks.router)
