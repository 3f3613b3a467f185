"""Channels in the demo: a mailbox (not polled: there is no mail server behind it) with two
e-mails received, the switchboard's line, a call on a dossier, a letter template and a social
network's channel; so that `make run` shows every flow on the dossier pages and the records.
Idempotent, like the rest of the demo."""

from __future__ import annotations

import datetime
import secrets

from django.db import transaction
from django.utils import timezone

from grc.base.models import Collectivite, Role, User
from grc.channels import calls
from grc.channels.mail.ingest import ingest
from grc.channels.models import Call, HookChannel, LetterTemplate, Mailbox, PhoneLine
from grc.demarches.models import Dossier

_REQUEST = """\
From: Paul Martin <paul.martin@exemple.test>
To: accueil@saint-aubin.test
Subject: Horaires de la déchetterie pendant les fêtes
Message-ID: <demo-1@exemple.test>
Date: Mon, 23 Nov 2026 09:12:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Bonjour,

La déchetterie sera-t-elle ouverte le samedi 26 décembre ?

Merci d'avance,
Paul Martin
"""

_OUT_OF_OFFICE = """\
From: Paul Martin <paul.martin@exemple.test>
To: accueil@saint-aubin.test
Subject: Réponse automatique : absent du bureau
Message-ID: <demo-2@exemple.test>
Auto-Submitted: auto-replied
Date: Mon, 23 Nov 2026 09:30:00 +0100
Content-Type: text/plain; charset=utf-8

Je suis absent jusqu'au 30 novembre.
"""

_LETTER = """Madame, Monsieur,

Nous avons bien reçu votre demande {{ dossier.reference }} du {{ dossier.received_at|date_fr }}.

{{ service.name }} l'étudie et reviendra vers vous prochainement. Pour toute question, vous \
pouvez nous joindre au {{ service.phone }}.

Veuillez agréer, Madame, Monsieur, nos salutations distinguées."""


@transaction.atomic
def load_demo_channels(*, collectivite: Collectivite) -> None:
    service = collectivite.services.order_by("pk").first()
    mailbox, created = Mailbox.objects.get_or_create(
        email=f"accueil@{collectivite.slug}.test",
        defaults={
            "collectivite": collectivite,
            "service": service,
            "name": "Accueil – courriels (démonstration)",
            "host": "imap.invalid",
            "port": 993,
            "username": "accueil",
            "is_active": False,  # no mail server behind the demo: never polled
        },
    )
    if created:
        for raw in (_REQUEST, _OUT_OF_OFFICE):
            ingest(mailbox, raw.replace("\n", "\r\n").encode())
    if not PhoneLine.objects.filter(collectivite=collectivite).exists():
        PhoneLine.objects.create(
            collectivite=collectivite,
            name="Standard de la mairie",
            number="+33241001020",
            secret=secrets.token_urlsafe(32),
        )
    dossier = (
        Dossier.objects.filed()
        .filter(collectivite=collectivite, usager__email="marie.dubois@exemple.test")
        .select_related("service")
        .order_by("received_at")
        .first()
    )
    agent = User.objects.filter(
        memberships__collectivite=collectivite,
        memberships__service=dossier.service_id if dossier else None,
        memberships__role=Role.AGENT,
    ).first()
    if dossier is not None and agent is not None and not Call.objects.filter(dossier=dossier):
        calls.log_call(
            actor=agent,
            dossier=dossier,
            direction=Call.Direction.IN,
            started_at=timezone.now() - datetime.timedelta(days=1, hours=2),
            duration=185,
            notes="Mme Dubois demande où en est sa demande ; je lui ai expliqué l'étape en cours.",
        )
    LetterTemplate.objects.get_or_create(
        collectivite=collectivite,
        name="Réponse d'attente",
        defaults={
            "subject": "Votre demande {{ dossier.reference }}",
            "body": _LETTER,
            "signature": "Le maire",
        },
    )
    HookChannel.objects.get_or_create(
        collectivite=collectivite,
        slug="facebook",
        defaults={"name": "Facebook", "secret": secrets.token_urlsafe(32)},
    )
