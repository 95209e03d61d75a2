from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Back office"


class OrdoAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Ordo's site (its index is the store dashboard). Listed by
    its full path in INSTALLED_APPS, so it is not this module's default."""

    default = False
    default_site = "backoffice.site.OrdoAdminSite"
