"""The API's own way through the middleware: an `/api/<method>` request goes to the gateway
right after the middleware every answer needs (security headers, the Content-Security-Policy,
outages, static files), without the web application's.

An API caller has no session: it sends a token (stemline.api.auth). The session, CSRF,
sign-in, messages and company-time-zone middleware did nothing for it but cost a third of a
small call (the session looked up for a cookie that is not there, the signed-in user worked out
for the time zone, the URL patterns walked), so this middleware answers the call itself, as
the `api-method` route in stemline/urls.py would. What those skipped middlewares gave an API
answer is kept here: the Host header checked against ALLOWED_HOSTS (CommonMiddleware), and
`X-Frame-Options` (XFrameOptionsMiddleware). The API's documentation (`/api/openapi.json`,
`/api/docs`) takes the ordinary way.
"""

import re

from django.conf import settings

from .gateway import dispatch

# Every API method's path but the documentation's; stemline/urls.py routes the same
# (`api-method`) where this middleware is not installed.
METHOD_ROUTE = r"^api/(?P<method_name>(?!(?:openapi\.json|docs)$).+)$"
METHOD_PATH = re.compile(METHOD_ROUTE)
HOST_KEYS = ("HTTP_X_FORWARDED_HOST", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT")
MAX_HOSTS = 64  # hosts already found allowed, kept (emptied when full)


class ApiGatewayMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.frame_options = getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()
        self.allowed: set[tuple] = set()

    def __call__(self, request):
        match = METHOD_PATH.match(request.path_info[1:])
        if match is None:
            return self.get_response(request)
        self.check_host(request)
        response = dispatch(request, match["method_name"])
        if "X-Frame-Options" not in response:
            response["X-Frame-Options"] = self.frame_options
        return response

    def check_host(self, request) -> None:
        """The Host header against ALLOWED_HOSTS, as CommonMiddleware checks it (DisallowedHost
        answers 400); the headers of a host already found allowed are remembered."""
        meta = request.META
        key = tuple(meta.get(name) for name in HOST_KEYS)
        if key in self.allowed:
            return
        request.get_host()
        if len(self.allowed) >= MAX_HOSTS:
            self.allowed.clear()
        self.allowed.add(key)
