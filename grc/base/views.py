from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from grc.base.health import database_status, worker_status


@never_cache
@require_GET
def healthz(request):
    """200 while the database answers (the worker's state is reported, not required: web pages
    work without it); 503 when the database does not."""
    database = database_status()
    worker = worker_status() if database["ok"] else {"ok": False, "workers": 0}
    body = {"status": "ok" if database["ok"] else "error", "database": database, "worker": worker}
    return JsonResponse(body, status=200 if database["ok"] else 503)


def too_many_requests(request, exception=None):
    from grc.base import ratelimit

    return ratelimit.refusal(request)
