"""Project routes."""

from django.http import JsonResponse
from django.urls import include, path, re_path

from stemline.api.gateway import dispatch
from stemline.api.middleware import METHOD_ROUTE


def healthz(request):
    # Constant answer for load balancers (and the bench's bare-view baseline).
    return JsonResponse({"status": 1, "message": "OK"})


# A database outage raised outside a view is a 503 too (stemline.core.outage), not a 500.
handler500 = "stemline.core.outage.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Every API method, matched here rather than inside the include below: a nested match
    # costs as much again (most of the gateway's routing). The include serves the API's
    # documentation (openapi.json, docs).
    re_path(METHOD_ROUTE, dispatch, name="api-method"),
    path("api/", include("stemline.api.urls")),
    path("portal/", include("stemline.vendor_portal.urls")),
    path("setup/integrations/", include("stemline.channels.urls")),
    path("", include("stemline.web.urls")),
]
