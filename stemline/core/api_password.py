"""login.forgot.password: a company resets a user's password; the user gets the web's reset
link by e-mail (Django's password-reset machinery), in a background task."""

import secrets

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from stemline.api.errors import ApiError
from stemline.api.registry import COMPANY, api_method
from stemline.api.schemas import Out, Params, Required

from . import ratelimit
from .models import LoginThrottle, User

# Reset e-mails to one login name: 3 at once, then one every 5 minutes, so a token cannot
# flood a person's mailbox.
RESET_RATE, RESET_BURST = 1 / 300, 3


def _throttle(username: str) -> None:
    row, _ = LoginThrottle.objects.get_or_create(key=f"forgot:{username.strip().lower()}")
    verdict = ratelimit.take(
        LoginThrottle.objects.filter(pk=row.pk), row.rate_tat, rate=RESET_RATE, burst=RESET_BURST
    )
    if not verdict.allowed:
        raise ApiError(
            "too many password resets for this user: retry later", 429, headers=verdict.headers()
        )


@task()
def send_reset_link(user_id: int, domain: str, protocol: str) -> bool:
    """E-mail the web's password-reset link (the same text as Forgot password on the sign-in
    page) to the user. True if sent."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": domain,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": protocol,
    }
    PasswordResetForm().send_mail(
        "web/email/password_reset_subject.txt",
        "web/email/password_reset_email.txt",
        context,
        None,
        user.email,
    )
    return True


class ForgotPasswordIn(Params):
    userName: Required(100)


class ForgotPasswordOut(Out):
    result: str = "1"


@api_method(
    "login.forgot.password",
    request=ForgotPasswordIn,
    response=ForgotPasswordOut,
    tokens=[COMPANY],
    area="auth",
    verbs=("GET", "POST"),
)
def login_forgot_password(call, p: ForgotPasswordIn):
    """Force-reset a user's password: the old one stops working, a reset link is e-mailed.

    `userName` is the user's login (an e-mail address, any case), a person of the token's
    company. The answer is `{"result": "1"}` whether or not such a user exists (or belongs to
    another company), so the method tells nobody which logins exist; only that user's
    mailbox learns it. Komet e-mails a new password; Stemline e-mails the link of the web's
    Forgot password page instead (a password never travels by e-mail): the user chooses the
    new one there. The API keys the user got from `login` keep working. At most 3 resets of
    one login at once, then one every 5 minutes (429 with Retry-After, for any name)."""
    _throttle(p.userName)
    user = User.objects.filter(
        company=call.company, username__iexact=p.userName, is_active=True
    ).first()
    if user is not None:
        # Forced: the old password stops working now, not when the link is used. The link's
        # token is made from the new hash, so it is made after this change (in the task).
        user.set_password(secrets.token_urlsafe(32))
        user.save(update_fields=["password"])
        request = call.request
        domain, protocol = request.get_host(), "https" if request.is_secure() else "http"
        transaction.on_commit(
            lambda: send_reset_link.enqueue(user.pk, domain, protocol), robust=True
        )
    return {"result": "1"}
