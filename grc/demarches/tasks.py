"""Background work of grc.demarches (procrastinate; deferred after commit, by id)."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from grc.demarches.acknowledgements import delivery


@app.task(
    name="demarches.deliver_acknowledgement",
    queue="mail",
    retry=RetryStrategy(max_attempts=delivery.MAX_ATTEMPTS, exponential_wait=3),
)
def deliver_acknowledgement(acknowledgement_id: int) -> None:
    delivery.deliver(acknowledgement_id)


@app.periodic(cron="17 3 * * *", periodic_id="purge_expired_drafts")
@app.task(name="demarches.purge_expired_drafts", queue="housekeeping")
def purge_expired_drafts(timestamp: int) -> None:
    from grc.demarches.services.dossiers import purge_expired_drafts as purge

    purge()
