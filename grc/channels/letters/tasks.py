"""Background work of letters (procrastinate; deferred after commit, by id)."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

MAX_ATTEMPTS = 4


@app.task(
    name="channels.read_letter",
    queue="ocr",
    retry=RetryStrategy(max_attempts=MAX_ATTEMPTS, exponential_wait=5),
)
def read_letter(letter_id: int) -> None:
    """Read a registered letter's scan (OCR) and make its words searchable on its dossier."""
    from grc.channels.letters.services import read_letter_text

    read_letter_text(letter_id=letter_id)
