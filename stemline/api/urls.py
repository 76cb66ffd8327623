"""Routes of the API: the documentation, then every method through the one gateway."""

from django.urls import re_path
from ninja.openapi.urls import get_openapi_urls

from .gateway import dispatch
from .openapi import api

app_name = api.urls_namespace
urlpatterns = [
    *get_openapi_urls(api),
    re_path(r"^(?P<method_name>.+)$", dispatch, name="method"),
]
