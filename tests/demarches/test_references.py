"""References are per collectivité and year, gap-free and unique under concurrency."""

import threading

import pytest
from django.db import connection, transaction

from grc.base.models import Channel
from grc.demarches.models import Dossier
from grc.demarches.references import TRACKING_ALPHABET
from grc.demarches.services.dossiers import submit_dossier
from tests.demarches.factories import definition, field, published
from tests.factories import CollectiviteFactory, ServiceFactory


def _demarche():
    commune = CollectiviteFactory(reference_prefix="MAIRIE")
    return published(
        commune, ServiceFactory(collectivite=commune), definition([field("objet", required=True)])
    )


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_submissions_get_fifty_distinct_consecutive_references():
    demarche = _demarche()
    barrier = threading.Barrier(50)
    errors = []

    def file(n):
        try:
            barrier.wait(timeout=30)
            submit_dossier(
                demarche=demarche,
                answers_given={"objet": f"Demande {n}"},
                channel=Channel.WEB,
                actor=None,
                contact_email=f"usager{n}@exemple.test",
            )
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=file, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    references = sorted(Dossier.objects.values_list("reference", flat=True))
    year = Dossier.objects.first().received_at.year
    assert references == [f"MAIRIE-{year}-{n:06d}" for n in range(1, 51)]


@pytest.mark.django_db
def test_a_rolled_back_submission_gives_its_number_back():
    demarche = _demarche()
    with pytest.raises(RuntimeError), transaction.atomic():
        submit_dossier(
            demarche=demarche,
            answers_given={"objet": "x"},
            channel=Channel.WEB,
            actor=None,
            contact_email="a@exemple.test",
        )
        raise RuntimeError("the request failed after the submission")
    filed = submit_dossier(
        demarche=demarche,
        answers_given={"objet": "y"},
        channel=Channel.WEB,
        actor=None,
        contact_email="a@exemple.test",
    )
    assert filed.reference.endswith("-000001")


@pytest.mark.django_db
def test_each_collectivite_counts_on_its_own_and_tracking_codes_use_the_safe_alphabet():
    first, second = _demarche(), None
    other = CollectiviteFactory(reference_prefix="CCLC")
    second = published(
        other, ServiceFactory(collectivite=other), definition([field("objet", required=True)])
    )
    a = submit_dossier(
        demarche=first,
        answers_given={"objet": "x"},
        channel=Channel.WEB,
        actor=None,
        contact_email="a@exemple.test",
    )
    b = submit_dossier(
        demarche=second,
        answers_given={"objet": "x"},
        channel=Channel.WEB,
        actor=None,
        contact_email="a@exemple.test",
    )
    assert a.reference.startswith("MAIRIE-") and a.reference.endswith("-000001")
    assert b.reference.startswith("CCLC-") and b.reference.endswith("-000001")
    assert len(a.tracking_code) == 8 and set(a.tracking_code) <= set(TRACKING_ALPHABET)
