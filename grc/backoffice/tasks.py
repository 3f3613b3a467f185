"""Background work of the agents' workspace (procrastinate; deferred after commit, by id)."""

from procrastinate.contrib.django import app


@app.task(name="backoffice.run_export", queue="exports")
def run_export(export_id: int) -> None:
    """Write a dossier export (CSV or XLSX) and store it for its requester."""
    from grc.backoffice.exports.services import run_export as write

    write(export_id)


@app.periodic(cron="41 3 * * *", periodic_id="purge_exports")
@app.task(name="backoffice.purge_exports", queue="housekeeping")
def purge_exports(timestamp: int) -> None:
    """Exports hold personal data: they are kept a few days only."""
    from grc.backoffice.exports.services import purge_exports as purge

    purge()
