"""Project routes."""

from django.db import DatabaseError
from django.http import JsonResponse
from django.urls import include, path, re_path

from stemline.api.gateway import dispatch
from stemline.api.middleware import METHOD_ROUTE
from stemline.core import outage, prepared


def healthz(request):
    # Constant answer for load balancers (and the bench's bare-view baseline).
    return JsonResponse({"status": 1, "message": "OK"})


def readyz(request):
    # Readiness for load balancers that should drain a machine whose database is gone: the web
    # process and one round trip to its database. During an outage: 503 with Retry-After, as
    # the API answers (and the bench's one-query baseline: what a single round trip costs).
    try:
        with prepared.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        if not outage.is_outage(exc):
            raise
        return outage.api_response(exc)
    return JsonResponse({"status": 1, "message": "OK"})


# A database outage raised outside a view is a 503 too (stemline.core.outage), not a 500.
handler500 = "stemline.core.outage.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # Every API method, matched here rather than inside the include below: a nested match
    # costs as much again (most of the gateway's routing). The include serves the API's
    # documentation (openapi.json, docs).
    re_path(METHOD_ROUTE, dispatch, name="api-method"),
    path("api/", include("stemline.api.urls")),
    path("portal/", include("stemline.vendor_portal.urls")),
    path("setup/integrations/", include("stemline.channels.urls")),
    path("", include("stemline.web.urls")),
]
