"""The API's errors: each carries its HTTP status, a message, and the fields at fault."""

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class ApiError(Exception):
    message: str
    http_status: int = 400
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    payload: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    @classmethod
    def for_field(cls, name: str, code: str, reason: str, http_status: int = 422) -> "ApiError":
        return cls(f"{name}: {reason}", http_status, [FieldError(name, code, reason)])


def bad_request(message: str) -> ApiError:
    return ApiError(message, 400)


def unauthorized(message: str) -> ApiError:
    return ApiError(message, 401)


def forbidden(message: str, field_name: str | None = None) -> ApiError:
    errors = [FieldError(field_name, "forbidden", message)] if field_name else []
    return ApiError(message, 403, errors)


def not_found(message: str, field_name: str | None = None) -> ApiError:
    errors = [FieldError(field_name, "not_found", message)] if field_name else []
    return ApiError(message, 404, errors)


def conflict(message: str, field_name: str | None = None, **payload) -> ApiError:
    errors = [FieldError(field_name, "conflict", message)] if field_name else []
    return ApiError(message, 409, errors, payload=payload)


def invalid(field_name: str, reason: str, code: str = "invalid") -> ApiError:
    return ApiError.for_field(field_name, code, reason, 422)
