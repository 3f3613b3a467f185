"""Background work of the channels (procrastinate): the mail gateway's polling here; the other
channels keep theirs in grc/channels/<channel>/tasks.py, registered by the imports below."""

from procrastinate.contrib.django import app


@app.periodic(cron="* * * * *", periodic_id="fetch_mail")
@app.task(
    name="channels.fetch_mail", queue="mail_in", lock="fetch_mail", queueing_lock="fetch_mail"
)
def fetch_mail(timestamp: int) -> None:
    """Every minute, the unseen messages of every active mailbox. One run at a time (lock) and
    at most one waiting (queueing lock): a long run delays the next instead of piling them."""
    from grc.channels.mail.imap import fetch_all

    fetch_all()


# procrastinate's Django integration imports each app's `tasks` module, this one: the tasks of
# the other channels are registered by importing their modules here.
from grc.channels.hooks import tasks as hooks_tasks  # noqa: E402, F401
from grc.channels.letters import tasks as letters_tasks  # noqa: E402, F401
from grc.channels.sms import tasks as sms_tasks  # noqa: E402, F401
