"""Settings of the plain DRF app benchmark_api --drf compares Ordo with: Ordo's settings
(database, installed apps, cache) with the URLs, middleware and REST framework settings a
plain Django + DRF project starts from. Served by the same config.wsgi, under
DJANGO_SETTINGS_MODULE=benchmarks.plain_drf_settings."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.plain_drf_urls"

# What `django-admin startproject` writes.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# DRF's defaults (JSON and browsable renderers, its exception handler), with the key
# authentication the plain app brings.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["benchmarks.plain_drf_auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["benchmarks.plain_drf_auth.HasApiKey"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "UNAUTHENTICATED_USER": None,
}
