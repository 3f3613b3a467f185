"""Background work of the SMS channel (procrastinate; deferred after commit, by id).

Imported by grc.channels.tasks so that the worker knows the task."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from grc.channels.sms.providers import ProviderRetry
from grc.channels.sms.services import MAX_ATTEMPTS


@app.task(
    name="channels.deliver_sms",
    queue="sms",
    pass_context=True,
    retry=RetryStrategy(
        max_attempts=MAX_ATTEMPTS, exponential_wait=3, retry_exceptions={ProviderRetry}
    ),
)
def deliver_sms(context, sms_id: int) -> None:
    from grc.channels.sms.services import deliver

    deliver(sms_id, attempt=context.job.attempts + 1)
