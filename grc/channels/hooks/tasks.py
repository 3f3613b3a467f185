"""Background work of the channels' webhooks (procrastinate; deferred after commit, by id)."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

# The same as services.MAX_ATTEMPTS (services imports this module, not the other way round).
MAX_ATTEMPTS = 8


@app.task(
    name="channels.deliver_hook_reply",
    queue="hooks",
    retry=RetryStrategy(max_attempts=MAX_ATTEMPTS, exponential_wait=3),
)
def deliver_reply(delivery_id: int) -> None:
    """An agent's reply POSTed to the channel's connector (grc.channels.hooks.services)."""
    from grc.channels.hooks.services import deliver_reply as deliver

    deliver(delivery_id)
