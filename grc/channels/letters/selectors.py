"""Reads of letters for staff: a letter is seen by whoever sees its dossier (and by the agent
who registered it, in their collectivité); templates by the staff of their collectivité."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from grc.base.access import NotFound
from grc.base.models import Membership
from grc.channels.models import Letter, LetterTemplate
from grc.demarches.access import dossiers_visible_to_staff


def _member_collectivite_ids(user):
    return Membership.objects.filter(user=user, collectivite__is_active=True).values(
        "collectivite_id"
    )


def letters_visible_to(user) -> QuerySet[Letter]:
    if not (user and user.is_authenticated and user.is_active):
        return Letter.objects.none()
    return Letter.objects.filter(
        Q(dossier__in=dossiers_visible_to_staff(user).values("pk"))
        | Q(registered_by=user, collectivite_id__in=_member_collectivite_ids(user))
    )


def access_letter(user, letter_id) -> Letter:
    try:
        return (
            letters_visible_to(user)
            .select_related("dossier", "usager", "scan", "document", "collectivite")
            .get(pk=letter_id)
        )
    except (Letter.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def templates_for(dossier) -> QuerySet[LetterTemplate]:
    return LetterTemplate.objects.filter(collectivite_id=dossier.collectivite_id, is_active=True)


def templates_visible_to(user) -> QuerySet[LetterTemplate]:
    """For the admin: the templates of the collectivités this person administers."""
    from grc.base import access

    if access.is_platform_admin(user):
        return LetterTemplate.objects.all()
    return LetterTemplate.objects.filter(collectivite__in=access.administered_collectivites(user))
