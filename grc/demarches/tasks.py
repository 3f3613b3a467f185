"""Background work of grc.demarches (procrastinate; deferred after commit, by id)."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from grc.demarches import notifications
from grc.demarches.acknowledgements import delivery
from grc.demarches.workflow.actions import MAX_ATTEMPTS as MAX_ACTION_ATTEMPTS


@app.task(
    name="demarches.deliver_acknowledgement",
    queue="mail",
    retry=RetryStrategy(max_attempts=delivery.MAX_ATTEMPTS, exponential_wait=3),
)
def deliver_acknowledgement(acknowledgement_id: int) -> None:
    delivery.deliver(acknowledgement_id)


@app.task(
    name="demarches.send_notification",
    queue="mail",
    retry=RetryStrategy(max_attempts=notifications.MAX_ATTEMPTS, exponential_wait=3),
)
def send_notification(notification_id: int) -> None:
    """An e-mail telling the citizen of an event on their dossier (grc.demarches.notifications)."""
    notifications.deliver(notification_id)


@app.periodic(cron="17 3 * * *", periodic_id="purge_expired_drafts")
@app.task(name="demarches.purge_expired_drafts", queue="housekeeping")
def purge_expired_drafts(timestamp: int) -> None:
    from grc.demarches.services.dossiers import purge_expired_drafts as purge

    purge()


@app.task(
    name="demarches.run_actions",
    queue="actions",
    pass_context=True,
    retry=RetryStrategy(max_attempts=MAX_ACTION_ATTEMPTS, exponential_wait=3),
)
def run_actions(context, status_change_id: int) -> None:
    from grc.demarches.workflow.actions import run_status_change_actions

    run_status_change_actions(status_change_id, attempt=context.job.attempts + 1)


@app.periodic(cron="*/15 * * * *", periodic_id="workflow_clocks")
@app.task(name="demarches.workflow_clocks", queue="timers", lock="workflow_clocks")
def workflow_clocks(timestamp: int) -> None:
    """Status timers and implicit decisions. Every run looks at dates, not at what happened
    since the last run: a run missed while the worker was down is caught up by the next."""
    from grc.demarches.workflow.services import run_due_timers, run_legal_clock

    run_legal_clock()
    run_due_timers()
