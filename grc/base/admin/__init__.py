from django.contrib import admin
from django.contrib.auth.models import Group

from grc.base.admin import accounts, audit, collectivites, usagers  # noqa: F401 - registers

# Roles are Membership rows, not Django groups.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
