from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from grc.api import channels_api
from grc.base import views as base_views

urlpatterns = [
    path("healthz", base_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Accounts: django-allauth (e-mail, password, confirmation, reset) under French paths.
    path("comptes/", include("grc.portal.accounts.urls")),
    path("backoffice/", include("grc.backoffice.urls")),
    path("api/canaux/", channels_api.urls),
    path("", include("grc.portal.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# allauth's rate limits (and ours) answer with this page: what happened, what to do, a 429.
handler429 = "grc.base.views.too_many_requests"
