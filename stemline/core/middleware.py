"""Project middleware: database outages answered 503, the Content-Security-Policy on every
response, and the web application's refusal of bodies it never needs."""

from django.conf import settings
from django.http import HttpResponse

from . import outage


class OutageMiddleware:
    """A view that finds the database unreachable answers 503 "temporarily unavailable" (the
    envelope under /api/), logged once per outage. Outages raised by other middleware (a
    session saved after the view) reach `outage.server_error`, the project's handler500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if outage.is_outage(exception):
            return outage.response_for(request, exception)
        return None


class ContentSecurityPolicyMiddleware:
    """Sends settings.CONTENT_SECURITY_POLICY with every response that has none of its own.

    The pages load scripts and styles only from /static/ (no inline script, no inline style),
    so an injected <script> or on*= attribute would not run even if escaping were ever missed.
    A view with other needs (the marketplace simulator of the demo) sets its own header.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class WebBodyLimitMiddleware:
    """Outside the API, refuse request bodies the web application never needs before anything
    reads them: larger than settings.WEB_MAX_BODY (its forms are small; the 20 MB allowance is
    for the API's file methods), or chunked (Django reads a body by its Content-Length, so a
    chunked form would arrive empty and fail confusingly). The API checks its own limits."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.WEB_MAX_BODY

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            refusal = self.refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def refusal(self, request) -> HttpResponse | None:
        meta = request.META
        if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _plain(411, "Send the form with a Content-Length (chunked bodies are refused).")
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _plain(400, "The Content-Length header is not a number.")
        if length > self.limit:
            return _plain(413, f"The request is larger than {self.limit // 1024} KB.")
        return None


def _plain(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain")
