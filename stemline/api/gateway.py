"""The one dispatch path of the API: every `/api/<method>` request goes through `dispatch`.

Order of checks: method known -> verb -> body size -> parameters parsed -> token found ->
X-ACCOUNT -> token type -> grant (or role) -> rate limit -> Idempotency-Key -> schema
validation -> Transactional-API-Access fields -> handler -> envelope.
"""

import hashlib
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError

from stemline.core import errors as domain
from stemline.core import outage
from stemline.tokens import crypto
from stemline.tokens.models import ApiToken

from . import auth
from .context import Call
from .errors import ApiError, FieldError, bad_request, forbidden, invalid, not_found, unauthorized
from .models import IdempotencyRecord
from .registry import USER, Method, registry
from .schemas import Envelope

log = logging.getLogger("stemline.api")

AUTH_KEYS = ("authenticationToken",)
# Accepted everywhere and checked against the token's company, never a schema field.
ACCOUNT_KEYS = ("companyId",)
DOMAIN_STATUS = {
    domain.Invalid: 422,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.PermissionDenied: 403,
}


def _json_response(body: bytes, status: int, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="application/json")
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


def parse_params(request: HttpRequest) -> dict:
    """Parameters from the query string, a form body or a JSON body, whichever was used."""
    params = _querydict_to_dict(request.GET)
    content_type = (request.content_type or "").lower()
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        raw = request.body
        if content_type == "application/json" or (
            raw[:1] in (b"{", b"[") and content_type in ("", "text/plain")
        ):
            if raw.strip():
                try:
                    body = json.loads(raw, parse_constant=_reject_constant)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise bad_request(f"the body is not valid JSON: {exc}") from exc
                if not isinstance(body, dict):
                    raise bad_request("the JSON body must be an object")
                params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                params.update(_querydict_to_dict(request.POST))
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
    data = {k: v for k, v in params.items() if k not in AUTH_KEYS and k not in ACCOUNT_KEYS}
    try:
        return method.request.model_validate(data)
    except ValidationError as exc:
        field_errors = []
        for err in exc.errors(include_url=False):
            name = _field_name(err["loc"])
            reason = err["msg"]
            if err["type"] == "extra_forbidden":
                reason = "is not a parameter of this method"
            field_errors.append(FieldError(name, err["type"], reason))
        first = field_errors[0]
        message = f"{first.field}: {first.message}"
        if len(field_errors) > 1:
            message += f" (and {len(field_errors) - 1} more)"
        raise ApiError(message, 422, field_errors) from exc


def _check_transactional(method: Method, params: dict, token: ApiToken | None) -> None:
    if token is None or token.transactional:
        return
    for name, info in method.request.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        # A false flag is the default, not a use of the locked field.
        if extra.get("transactional") and params.get(name) not in (
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
    secret = request.headers.get("authenticationToken")
    if not secret:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            secret = auth[7:].strip()
    if not secret:
        secret = params.get("authenticationToken")
    return secret if isinstance(secret, str) else None


def _account_id(request: HttpRequest, params: dict, method: Method) -> int | None:
    raw = request.headers.get("X-ACCOUNT")
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
    if isinstance(result, Envelope):
        payload = result
    else:
        payload = method.response.model_validate(result or {})
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
            with transaction.atomic():
                body, status = _run(call, params_model)
        except ApiError as exc:
            response = error_response(exc)
            body, status = response.content, response.status_code
        record.status_code, record.response_body = status, body
        record.save(update_fields=["status_code", "response_body"])
    return _json_response(body, status)


@csrf_exempt
def dispatch(request: HttpRequest, method_name: str) -> HttpResponse:
    headers: dict[str, str] = {}
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
        params = parse_params(request)
        token = None
        if method.needs_token:
            token, headers = authenticate(request, params, method)
        call = Call(
            request=request, method=method, company=token.company if token else None, token=token
        )
        params_model = validate(method, params)
        _check_transactional(method, params, token)
        key = request.headers.get("Idempotency-Key")
        if key and method.creates and token is not None and request.method == "POST":
            if len(key) > 255:
                raise ApiError.for_field(
                    "Idempotency-Key", "too_long", "at most 255 characters", 400
                )
            response = _run_idempotent(call, params, params_model, key)
        else:
            if method.atomic:
                with transaction.atomic():
                    body, status = _run(call, params_model)
            else:
                body, status = _run(call, params_model)
            response = _json_response(body, status)
    except ApiError as exc:
        exc.headers = {**headers, **exc.headers}
        return error_response(exc)
    except domain.DomainError as exc:
        return error_response(_from_domain(exc))
    except IntegrityError as exc:
        log.warning("integrity error in %s: %s", method_name, exc)
        return error_response(ApiError("the change conflicts with existing data", 409))
    except RequestDataTooBig:
        return error_response(ApiError("the request body is too large", 413))
    except outage.OUTAGE_ERRORS as exc:
        # The database is unreachable: 503 with Retry-After, logged once per outage.
        return outage.api_response(exc)
    except Exception:
        # A bug, never the caller's fault: logged with its traceback, answered in the envelope.
        log.exception("unhandled error in API method %s", method_name)
        return error_response(ApiError("internal error; it has been logged", 500))
    for name, value in headers.items():
        response[name] = value
    return response
