"""Every URL of the workspace that names an object, walked from the URL configuration itself:
someone outside the object's collectivité gets "not found" (or is refused), never the page,
the file or the change — for GET and for POST. A new URL whose parameter this test does not
know fails here until it is added, so no URL escapes the check."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLResolver, reverse
from django.utils import timezone

from grc.backoffice import urls as backoffice_urls
from grc.backoffice.models import ExportJob
from grc.base.models import Channel
from grc.base.services.usagers import find_or_create_usager
from grc.channels import calls
from grc.channels.mail.ingest import ingest
from grc.channels.models import Letter, Mailbox
from grc.demarches.models import Demarche, Document
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
REFUSED = {404, 405}  # "not found" (405: a GET on a POST-only URL)


def named_patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from named_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif pattern.name:
            yield pattern.name, pattern.pattern.converters, str(pattern.pattern)


def object_urls(world) -> list[tuple[str, str]]:
    """(name, url) of every backoffice URL with parameters, filled with tenant A's objects."""
    values = {
        "demarche_id": world["demarche"].pk,
        "model_id": world["model"].pk,
        "export_id": world["export"].pk,
        "dossier_id": world["dossier"].pk,
        "pk": None,  # depends on the URL: a dossier or a citizen record
        "other_pk": world["other_usager"].pk,
        "attachment_id": world["attachment"].pk,
        "document_id": world["document"].pk,
        "kind": "aee",
        "call_id": world["call"].pk,
        "letter_id": world["letter"].pk,
        "mail_id": world["mail"].pk,
        "queue_slug": None,  # lists, scoped by their own tests
    }
    urls = []
    for name, converters, route in named_patterns(backoffice_urls.urlpatterns):
        params = list(converters) or _regex_groups(route)
        if not params:
            continue
        unknown = [p for p in params if p not in values]
        assert not unknown, f"{name}: add {unknown} to this test's objects"
        if "queue_slug" in params:
            continue
        kwargs = {p: values[p] for p in params}
        if "pk" in params:
            kwargs["pk"] = world["usager"].pk if name.startswith("usager") else world["dossier"].pk
        urls.append((name, reverse(f"backoffice:{name}", kwargs=kwargs)))
    return urls


def _regex_groups(route: str) -> list[str]:
    import re

    return re.findall(r"\(\?P<(\w+)>", route)


@pytest.fixture
def world(tenant_a, media):
    demarche = demarche_for(tenant_a, who_may_file="anonymous")
    dossier = file_dossier(demarche, contact_email="usager@exemple.test", with_file=True)
    document = Document.objects.create(
        dossier=dossier,
        kind="attestation",
        title="Attestation",
        file=ContentFile(b"%PDF-1.4 test", name="attestation.pdf"),
        sha256="0" * 64,
    )
    other = find_or_create_usager(
        tenant_a.collectivite,
        email="double@exemple.test",
        first_name="Jean",
        last_name="Double",
        channel=Channel.COUNTER,
        actor=tenant_a.agent,
    ).usager
    export = ExportJob.objects.create(
        requested_by=tenant_a.admin,
        collectivite=tenant_a.collectivite,
        kind="dossiers",
        format="csv",
        status="done",
        file=ContentFile(b"reference\n", name="export.csv"),
    )
    model = Demarche.objects.filter(collectivite__isnull=True).first() or demarche
    call = calls.log_call(
        actor=tenant_a.agent, dossier=dossier, direction="in", started_at=timezone.now()
    )
    letter = Letter.objects.create(
        collectivite=tenant_a.collectivite,
        direction=Letter.Direction.IN,
        dossier=dossier,
        usager=dossier.usager,
        sender="Usager",
        received_on=timezone.localdate(),
        scan=dossier.attachments.first(),
    )
    mailbox = Mailbox.objects.create(
        collectivite=tenant_a.collectivite,
        service=tenant_a.service,
        name="Boîte du service",
        email="service@mairie-a.test",
        host="127.0.0.1",
        username="service",
    )
    mail = ingest(mailbox, b"From: a@exemple.test\r\nSubject: Bonjour\r\n\r\nTexte\r\n")
    return {
        "mail": mail,
        "call": call,
        "letter": letter,
        "demarche": demarche,
        "model": model,
        "dossier": dossier,
        "usager": dossier.usager,
        "other_usager": other,
        "attachment": dossier.attachments.first(),
        "document": document,
        "export": export,
    }


def client_for(user) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def test_the_walk_covers_the_workspace(world):
    names = {name for name, _url in object_urls(world)}
    for expected in (
        "dossier",
        "dossier_attachment",
        "usager_detail",
        "usager_merge",
        "export_download",
        "intake_acknowledgement_pdf",
        "demarche_settings",
        "call_edit",
        "letter_detail",
        "letter_file",
        "mail_detail",
        "mail_raw",
        "mail_release",
    ):
        assert expected in names


@pytest.mark.parametrize(
    "who",
    [
        "admin of another collectivité",
        "agent of another collectivité",
        "agent of another service",
        "platform admin",
        "citizen",
    ],
)
def test_outsiders_reach_no_object_of_the_workspace(world, tenant_a, tenant_b, platform_admin, who):
    from tests.factories import MembershipFactory, ServiceFactory

    if who == "agent of another service":
        user = MembershipFactory(
            collectivite=tenant_a.collectivite,
            service=ServiceFactory(collectivite=tenant_a.collectivite),
        ).user
    else:
        user = {
            "admin of another collectivité": tenant_b.admin,
            "agent of another collectivité": tenant_b.agent,
            "platform admin": platform_admin,
            "citizen": UserFactory(),
        }[who]
    client = client_for(user)
    reached = []
    for name, url in object_urls(world):
        # The agency configures démarches (and the catalogue) for every collectivité: the
        # démarche settings are open to it by design; dossiers, citizens and exports are not.
        if who == "platform admin" and (name.startswith("demarche") or name == "catalogue_adopt"):
            continue
        # Within its collectivité, an agent takes in for any démarche open to agents, and the
        # citizen records are the collectivité's (the counter finds anyone): the record page
        # then shows only the dossiers of the agent's own services (tests/backoffice/
        # test_usagers.py). Dossiers, files and exports stay per service.
        if who == "agent of another service" and (
            name == "intake_form" or name.startswith("usager")
        ):
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code not in REFUSED:
                reached.append(f"{method.upper()} {name} {url} → {response.status_code}")
    assert not reached, "\n".join(reached)


def test_every_file_the_workspace_serves_is_private_and_not_sniffed(world, tenant_a):
    # Attachments, documents, acknowledgements, letters' scans, raw e-mails, exports: one
    # response helper sets the headers (grc/backoffice/files.py).
    client = client_for(tenant_a.admin)
    served = 0
    for name, url in object_urls(world):
        response = client.get(url)
        if response.status_code == 200 and hasattr(response, "streaming_content"):
            served += 1
            assert response["X-Content-Type-Options"] == "nosniff", name
            assert response["Cache-Control"] == "private, no-store", name
    assert served >= 5
