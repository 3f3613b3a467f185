"""Background work of grc.base (procrastinate; deferred after commit)."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app


@app.task(
    name="base.send_account_mail",
    queue="mail",
    retry=RetryStrategy(max_attempts=8, exponential_wait=3),
)
def send_account_mail(*, to: list[str], subject: str, body: str, html: str = "") -> None:
    """An account e-mail (address confirmation, password reset), rendered by the request."""
    from grc.base.mail import send_email

    send_email(to=to, subject=subject, body=body, html=html)
