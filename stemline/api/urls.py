"""Routes of the API's documentation (openapi.json, docs). Every method goes through the one
gateway, routed in stemline/urls.py (`api-method`) ahead of these."""

from ninja.openapi.urls import get_openapi_urls

from .openapi import api

app_name = api.urls_namespace
urlpatterns = [*get_openapi_urls(api)]
