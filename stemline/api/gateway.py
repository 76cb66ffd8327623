"""The one dispatch path of the API: every `/api/<method>` request goes through `dispatch`.

Order of checks: method known -> verb -> body size -> parameters parsed -> token found ->
X-ACCOUNT -> token type -> grant (or role) -> rate limit -> Idempotency-Key -> schema
validation -> Transactional-API-Access fields -> handler -> envelope.
"""

import hashlib
import json
import logging
import re
import urllib.parse
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError

from stemline.core import atomic, outage, timezones
from stemline.core import errors as domain
from stemline.tokens import crypto
from stemline.tokens.models import ApiToken

from . import auth, leniency, messages, naming, texts
from .context import Call
from .errors import ApiError, FieldError, bad_request, forbidden, invalid, not_found, unauthorized
from .models import IdempotencyRecord
from .registry import USER, Method, registry
from .schemas import Envelope, Rendered

log = logging.getLogger("stemline.api")

# vendor.invoice.mail.receive names the token `companyToken` (reference §1.3).
AUTH_KEYS = ("authenticationToken", "companyToken")
# Accepted everywhere and checked against the token's company, never a schema field.
ACCOUNT_KEYS = ("companyId",)
NOT_PARAMETERS = frozenset(AUTH_KEYS + ACCOUNT_KEYS)
# Deeper JSON than any method's schema has is refused before anything walks it.
MAX_JSON_DEPTH = 32
DOMAIN_STATUS = {
    domain.Invalid: 422,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.PermissionDenied: 403,
}


def _json_response(body, status: int, headers: dict[str, str] | None = None) -> HttpResponse:
    if isinstance(body, bytes):
        response = HttpResponse(body, status=status, content_type="application/json")
    else:  # a long list's chunks (schemas.Rendered with stream), sent as they are made
        response = StreamingHttpResponse(body, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: ApiError) -> HttpResponse:
    body = {"status": 0, "message": error.message, "errors": [e.as_dict() for e in error.errors]}
    body.update(error.payload)
    return _json_response(json.dumps(body).encode(), error.http_status, error.headers)


def _from_domain(exc: domain.DomainError) -> ApiError:
    status = next(code for kind, code in DOMAIN_STATUS.items() if isinstance(exc, kind))
    field_errors = [FieldError(exc.field, exc.code, exc.message)] if exc.field else []
    message = f"{exc.field}: {exc.message}" if exc.field else exc.message
    return ApiError(message, status, field_errors, payload=exc.details)


# ---------------------------------------------------------------- parameters


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _querydict_to_dict(qd) -> dict:
    out = {}
    for key in qd:
        values = qd.getlist(key)
        if key.endswith("[]"):
            out[key[:-2]] = values
        else:
            out[key] = values[0] if len(values) == 1 else values
    return out


def _depth_ok(value, limit: int) -> bool:
    """No deeper than `limit` levels, walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The body, at most `limit` bytes of it: with a Content-Length as Django reads it, sent
    in chunks (no Content-Length) read from the server's stream up to the limit."""
    if _chunked(request) and not request.META.get("CONTENT_LENGTH"):
        if not hasattr(request, "_body"):
            stream = request.META.get("wsgi.input")
            data = stream.read(limit + 1) if stream is not None else b""
            if len(data) > limit:
                raise ApiError(f"the request body is larger than {limit // 1024} KB", 413)
            request._body = data
        return request._body
    return request.body


_BODY_TOKEN = (
    # a form part, a urlencoded pair, a JSON member
    re.compile(
        rb'name="(?:authenticationToken|companyToken)"\r\n(?:[^\r\n]*\r\n)*?\r\n([!-~]{1,200})\r\n'
    ),
    re.compile(rb"(?:^|&)(?:authenticationToken|companyToken)=([A-Za-z0-9_%.~-]{1,200})(?:&|$)"),
    re.compile(rb'"(?:authenticationToken|companyToken)"\s*:\s*"([!-~]{1,200}?)"'),
)


class _Prefixed:
    """A request stream with its first bytes already read (and given back first)."""

    def __init__(self, head: bytes, rest):
        self.head, self.rest = head, rest

    def read(self, size=-1):
        if size is None or size < 0:
            data, self.head = self.head + self.rest.read(), b""
            return data
        if self.head:
            data, self.head = self.head[:size], self.head[size:]
            if len(data) < size:
                data += self.rest.read(size - len(data))
            return data
        return self.rest.read(size)

    def close(self):
        close = getattr(self.rest, "close", None)
        if close is not None:
            close()

    def readline(self, size=-1):
        # Django's parsers read in blocks; a line is served from the head when it holds one.
        if self.head:
            end = self.head.find(b"\n")
            if end >= 0 and (size is None or size < 0 or end < size):
                data, self.head = self.head[: end + 1], self.head[end + 1 :]
                return data
        return self.read(size if size and size > 0 else 65536)


def _peek_token(request: HttpRequest) -> str | None:
    """The token a body names in its first 64 KB, leaving the body readable as before."""
    stream = getattr(request, "_stream", None)
    if stream is None:
        return None
    head = stream.read(settings.API_MAX_BODY)
    request._stream = _Prefixed(head, stream)
    for pattern in _BODY_TOKEN:
        match = pattern.search(head)
        if match:
            return urllib.parse.unquote(match.group(1).decode("ascii", "replace"))
    return None


def _grouped(pairs) -> dict:
    """Pairs as `_querydict_to_dict` gives a QueryDict of them."""
    grouped: dict[str, list] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    out = {}
    for key, values in grouped.items():
        if key.endswith("[]"):
            out[key[:-2]] = values
        else:
            out[key] = values[0] if len(values) == 1 else values
    return out


def _query(request: HttpRequest) -> dict:
    """The query string's parameters, read as `request.GET` reads them (the same decoding and
    field limit) without building a QueryDict: a third of a small call's parameter work."""
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return {}
    data = raw.encode("iso-8859-1")
    encoding = request.encoding or settings.DEFAULT_CHARSET
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")
    try:
        pairs = urllib.parse.parse_qsl(
            text,
            keep_blank_values=True,
            encoding=encoding,
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except ValueError:
        raise bad_request(
            f"the query string has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} parameters"
        ) from None
    return _grouped(pairs)


def parse_params(request: HttpRequest, limit: int | None = None) -> dict:
    """Parameters from the query string, a form body or a JSON body, whichever was used (the
    query string of a POST counts too; the body wins where both name a parameter)."""
    params = _query(request)
    content_type = (request.content_type or "").lower()
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        raw = read_body(request, limit or settings.API_MAX_BODY)
        if content_type == "application/json" or (
            raw[:1] in (b"{", b"[") and content_type in ("", "text/plain")
        ):
            if raw.strip():
                try:
                    body = json.loads(raw, parse_constant=_reject_constant)
                except RecursionError:
                    raise bad_request(
                        f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"
                    ) from None
                except (ValueError, UnicodeDecodeError) as exc:
                    raise bad_request(f"the body is not valid JSON: {exc}") from exc
                if not isinstance(body, dict):
                    raise bad_request("the JSON body must be an object")
                if not _depth_ok(body, MAX_JSON_DEPTH):
                    raise bad_request(
                        f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"
                    )
                params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                params.update(_querydict_to_dict(request.POST))
            except TooManyFieldsSent:
                raise bad_request(
                    f"the form body has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields"
                ) from None
            except MultiPartParserError as exc:
                raise bad_request(f"the form body cannot be read: {exc}") from exc
    _check_text(params, "")
    return params


def _check_text(value, path: str) -> None:
    """Text the databases cannot store (NUL, lone surrogates) is refused by field name."""
    if isinstance(value, str):
        if "\x00" in value:
            raise invalid(path or "body", "must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise invalid(path or "body", "is not valid UTF-8 text") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                continue
            _check_text(key, path or "body")
            _check_text(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}[{index}]")


def _field_name(loc: tuple) -> str:
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def validate(method: Method, params: dict):
    """The request schema filled from parameters already in its shape (see `lenient`)."""
    data = {k: v for k, v in params.items() if k not in NOT_PARAMETERS}
    try:
        return method.request.model_validate(data)
    except ValidationError as exc:
        field_errors = []
        for err in exc.errors(include_url=False):
            name = _field_name(err["loc"])
            field_errors.append(FieldError(name, err["type"], messages.reason(method.request, err)))
        first = field_errors[0]
        message = f"{first.field}: {first.message}"
        if len(field_errors) > 1:
            message += f" (and {len(field_errors) - 1} more)"
        raise ApiError(message, 422, field_errors) from exc


def lenient(method: Method, params: dict, call: Call) -> tuple[dict, list[str]]:
    """Komet's leniency (contract §1): a record's several names checked against each other,
    then the parameters brought to the schema's shape; unknown ones set aside (refused for a
    token with strict parameters). Returns the parameters and the names set aside."""
    used: frozenset[str] = frozenset()
    if method.check_names:
        params, used = naming.reconcile(call.company, method.request, params)
    strict = bool(call.token is not None and call.token.strict_parameters)
    outcome = leniency.normalize(
        method.request, params, skip=NOT_PARAMETERS, strict=strict, consumed=used
    )
    return outcome.data, outcome.ignored


@cache
def _transactional_fields(model) -> tuple[str, ...]:
    """The fields of a request schema that only a Transactional-API-Access token may use."""
    names = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("transactional"):
            names.append(name)
    return tuple(names)


def _check_transactional(method: Method, params: dict, token: ApiToken | None) -> None:
    if token is None or token.transactional:
        return
    for name in _transactional_fields(method.request):
        # A false flag is the default, not a use of the locked field.
        if params.get(name) not in (
            None,
            "",
            [],
            False,
            0,
            "0",
            "false",
            "False",
        ):
            raise forbidden(f"{name}: needs a token with Transactional API Access", field_name=name)


# ---------------------------------------------------------------- authentication


def _token_secret(request: HttpRequest, params: dict) -> str | None:
    # Read from META by their WSGI names: `request.headers` would copy every header first.
    meta = request.META
    secret = meta.get("HTTP_AUTHENTICATIONTOKEN")
    if not secret:
        auth = meta.get("HTTP_AUTHORIZATION", "")
        if auth.lower().startswith("bearer "):
            secret = auth[7:].strip()
    if not secret:
        secret = params.get("authenticationToken") or params.get("companyToken")
    return secret if isinstance(secret, str) else None


def _account_id(request: HttpRequest, params: dict, method: Method) -> int | None:
    raw = request.META.get("HTTP_X_ACCOUNT")
    if raw in (None, ""):
        if method.account_required:
            raise ApiError.for_field("X-ACCOUNT", "missing", "this header is required", 400)
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError.for_field(
            "X-ACCOUNT", "invalid", "must be the numeric Company ID", 400
        ) from None


def _check_access(token: ApiToken, request: HttpRequest, params: dict, method: Method) -> None:
    company = token.company
    account = _account_id(request, params, method)
    if account is not None and account != company.account_id:
        raise forbidden("X-ACCOUNT: this token belongs to another company", field_name="X-ACCOUNT")
    body_company = params.get("companyId")
    if body_company not in (None, ""):
        if str(body_company).strip() != str(company.account_id):
            raise forbidden(
                "companyId: this token belongs to another company", field_name="companyId"
            )
    if not method.accepts(token.token_type):
        allowed = ", ".join(sorted(t.capitalize() for t in method.token_types)) or "no"
        raise forbidden(
            f"{method.name} does not accept a {token.get_token_type_display()} token "
            f"(accepted: {allowed})"
        )
    if token.token_type == USER:
        user = token.user
        if not user.is_active:
            raise unauthorized("authenticationToken: the user of this key is deactivated")
        if user.role not in method.roles:
            raise forbidden(f"{method.name} is not allowed for the role of this user")
    elif method.name not in token.grants:
        raise forbidden(f"{method.name} is not among the methods granted to this token")


def authenticate(request: HttpRequest, params: dict, method: Method) -> tuple[ApiToken, dict]:
    """The caller's token, checked for this method, with one request of its quota spent.

    Returns the token and the RateLimit headers for the answer."""
    secret = _token_secret(request, params)
    if not secret:
        raise unauthorized(
            "authenticationToken: missing; send it in the authenticationToken header"
        )
    if len(secret) > 200:
        raise unauthorized("authenticationToken: unknown or revoked token")
    key_hash = crypto.lookup_hash(secret)
    token, fresh = auth.snapshot(key_hash)
    for _ in range(3):
        if token is None:
            raise unauthorized("authenticationToken: unknown or revoked token")
        try:
            _check_access(token, request, params, method)
        except ApiError:
            if fresh:
                raise
            # Refusals are rare: make sure a just-granted method is not refused by a snapshot.
            token, fresh = auth.load(key_hash), True
            continue
        verdict = auth.spend(token)
        if verdict is None:
            token, fresh = auth.load(key_hash), True
            continue
        if not verdict.allowed:
            raise ApiError("rate limit exceeded: retry later", 429, headers=verdict.headers())
        return token, verdict.headers()
    raise unauthorized("authenticationToken: the token changed while in use; retry")


# ---------------------------------------------------------------- idempotency


def _request_hash(method: Method, params: dict) -> str:
    data = {k: v for k, v in params.items() if k not in AUTH_KEYS}
    blob = json.dumps([method.name, data], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> HttpResponse:
    if record.request_hash != request_hash:
        raise ApiError(
            "Idempotency-Key: already used with other parameters",
            409,
            [FieldError("Idempotency-Key", "reused", "already used with other parameters")],
        )
    response = _json_response(bytes(record.response_body), record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


# ---------------------------------------------------------------- dispatch


def _run(call: Call, params_model) -> tuple[bytes, int]:
    method = call.method
    try:
        result = method.handler(call, params_model)
    except domain.DomainError as exc:
        raise _from_domain(exc) from exc
    if isinstance(result, Rendered):
        # Rows already in JSON's types: written without a model per row (long lists).
        return (result.chunks() if result.stream else result.body()), 200
    if isinstance(result, Envelope):
        payload = result
    else:
        payload = method.response.model_validate(result or {})
    texts.apply_empty_message(method.name, payload)
    return payload.model_dump_json().encode(), 200


def _run_idempotent(call: Call, params: dict, params_model, key: str) -> HttpResponse:
    method, token = call.method, call.token
    request_hash = _request_hash(method, params)
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    with transaction.atomic():
        IdempotencyRecord.objects.filter(token=token, key=key, created_at__lt=cutoff).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    token=token, key=key, method=method.name, request_hash=request_hash
                )
        except IntegrityError:
            # Another request with this key committed first: answer as it did.
            record = IdempotencyRecord.objects.get(token=token, key=key)
            return _replay(record, request_hash)
        try:
            with atomic.whole():
                body, status = _run(call, params_model)
        except ApiError as exc:
            response = error_response(exc)
            body, status = response.content, response.status_code
        record.status_code, record.response_body = status, body
        record.save(update_fields=["status_code", "response_body"])
    return _json_response(body, status)


def _check_body_company(token: ApiToken, params: dict) -> None:
    body_company = params.get("companyId")
    if body_company not in (None, "") and str(body_company).strip() != str(
        token.company.account_id
    ):
        raise forbidden("companyId: this token belongs to another company", field_name="companyId")


def _as_token_wants(response: HttpResponse, token: ApiToken | None) -> HttpResponse:
    if token is not None and token.failures_as_200 and response.status_code != 200:
        # For clients whose HTTP library throws on any non-2xx answer (a token setting); the
        # honest code stays readable in a header.
        response["X-Stemline-Status"] = str(response.status_code)
        response.status_code = 200
    return response


def _failure(error: ApiError, token: ApiToken | None) -> HttpResponse:
    return _as_token_wants(error_response(error), token)


@csrf_exempt
def dispatch(request: HttpRequest, method_name: str) -> HttpResponse:
    try:
        return _dispatch(request, method_name)
    finally:
        timezone.deactivate()


def _dispatch(request: HttpRequest, method_name: str) -> HttpResponse:
    headers: dict[str, str] = {}
    token = None
    try:
        method = registry.get(method_name)
        if method is None:
            raise not_found(f"unknown API method {method_name!r}")
        if request.method not in method.verbs:
            error = ApiError(f"{method.name} answers {' and '.join(method.verbs)}", 405)
            error.headers["Allow"] = ", ".join(method.verbs)
            raise error
        limit = method.max_body or settings.API_MAX_BODY
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise ApiError(f"the request body is larger than {limit // 1024} KB", 413)
        early = method.needs_token and (length > settings.API_MAX_BODY or _chunked(request))
        if early:
            # A large body is read only for a caller whose token checks out, so a stranger's
            # 20 MB costs what 64 KB does: the token from the header or the query string, else
            # from the body's first 64 KB (a form that sends it before its file).
            found = _query(request)
            if not _token_secret(request, found) and not _chunked(request):
                secret = _peek_token(request)
                if secret:
                    found = {**found, "authenticationToken": secret}
            token, headers = authenticate(request, found, method)
            if length <= settings.API_MAX_BODY:
                limit = max(limit, settings.API_MAX_BODY)
        elif _chunked(request):
            limit = min(limit, settings.API_MAX_BODY)
        params = parse_params(request, limit)
        if method.needs_token and token is None:
            token, headers = authenticate(request, params, method)
        elif token is not None:
            _check_body_company(token, params)
        call = Call(
            request=request, method=method, company=token.company if token else None, token=token
        )
        # The company's "today" and local times for the whole call (reset when it ends).
        timezones.activate_for(call.company)
        params, ignored = lenient(method, params, call)
        if ignored:
            headers["X-Ignored-Parameters"] = leniency.ignored_header(ignored)
        params_model = validate(method, params)
        _check_transactional(method, params, token)
        key = request.META.get("HTTP_IDEMPOTENCY_KEY")
        if key and method.creates and token is not None and request.method == "POST":
            if len(key) > 255:
                raise ApiError.for_field(
                    "Idempotency-Key", "too_long", "at most 255 characters", 400
                )
            response = _run_idempotent(call, params, params_model, key)
        else:
            if method.atomic:
                with atomic.whole():
                    body, status = _run(call, params_model)
            else:
                body, status = _run(call, params_model)
            response = _json_response(body, status)
    except ApiError as exc:
        exc.headers = {**headers, **exc.headers}
        return _failure(exc, token)
    except domain.DomainError as exc:
        error = _from_domain(exc)
        error.headers = {**headers, **error.headers}
        return _failure(error, token)
    except IntegrityError as exc:
        log.warning("integrity error in %s: %s", method_name, exc)
        return _failure(
            ApiError("the change conflicts with existing data", 409, headers=headers), token
        )
    except RequestDataTooBig:
        return _failure(ApiError("the request body is too large", 413), token)
    except outage.OUTAGE_ERRORS as exc:
        # The database is unreachable: 503 with Retry-After, logged once per outage.
        return outage.api_response(exc)
    except Exception:
        # A bug, never the caller's fault: logged with its traceback, answered in the envelope.
        log.exception("unhandled error in API method %s", method_name)
        return _failure(ApiError("internal error; it has been logged", 500), token)
    for name, value in headers.items():
        response[name] = value
    # A replayed Idempotency-Key answer may be a failure too.
    return _as_token_wants(response, token)
