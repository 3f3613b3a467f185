from grc.base.models.address import PostalAddress
from grc.base.models.audit import Event
from grc.base.models.collectivites import Collectivite, CollectiviteHost, Service
from grc.base.models.people import Membership, Role, User
from grc.base.models.profiles import CitizenProfile
from grc.base.models.usagers import Channel, DuplicateCandidate, Usager

__all__ = [
    "Channel",
    "CitizenProfile",
    "Collectivite",
    "CollectiviteHost",
    "DuplicateCandidate",
    "Event",
    "Membership",
    "PostalAddress",
    "Role",
    "Service",
    "Usager",
    "User",
]
