"""The citizen's own pages: where a login lands, the profile."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def account_home(request):
    return HttpResponse("TODO")


@login_required
def profile(request):
    return HttpResponse("TODO")
