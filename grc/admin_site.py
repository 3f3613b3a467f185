"""The Django admin, in French, opened to platform and collectivité admins only."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class GrcAdminSite(AdminSite):
    site_header = _("GRC – administration")
    site_title = _("GRC administration")
    index_title = _("Configuration de la plateforme")
    enable_nav_sidebar = False

    def has_permission(self, request):
        # access.can_use_admin, computed once per request (a cached_property on User).
        return request.user.is_staff


class GrcAdminConfig(AdminConfig):
    default_site = "grc.admin_site.GrcAdminSite"
