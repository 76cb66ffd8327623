"""Setup > People: the company's staff, their roles, and the link that lets a person choose
a password (Django's password-reset token: one use, expires, nothing secret in a mailbox)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_POST

from stemline.core.errors import DomainError
from stemline.core.models import STAFF_ROLES, User
from stemline.core.services import create_user, update_staff_user
from stemline.web.access import area_required, listing
from stemline.web.forms import StaffEditForm, StaffUserForm, add_service_error


def set_password_link(request, user) -> str:
    """An absolute one-time link to the password-reset page for `user`."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return request.build_absolute_uri(path)


def send_set_password_mail(request, user, *, subject: str, template: str, **context) -> None:
    body = render_to_string(
        template,
        {
            "company": request.user.company,
            "username": user.username,
            "set_password_url": set_password_link(request, user),
            "login_url": request.build_absolute_uri(reverse("login")),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
            **context,
        },
    )
    send_mail(subject, body, None, [user.email])


def _ctx(**extra) -> dict:
    return {"section": "setup", "page": "people", **extra}


USER_SORTS = {
    "name": [Lower("first_name"), Lower("last_name"), Lower("username")],
    "email": [Lower("username")],
    "role": ["role"],
    "active": ["is_active"],
    "last_login": ["last_login"],
    "id": ["id"],
}


def _staff(request):
    return User.objects.filter(company_id=request.user.company_id, role__in=STAFF_ROLES)


@area_required("people")
def user_list(request):
    view = listing(
        request,
        _staff(request),
        sorts=USER_SORTS,
        default="email",
        search=lambda qs, q: qs.filter(
            Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
        ),
    )
    return render(request, "web/setup/users.html", _ctx(**view))


@area_required("people")
def user_new(request):
    company = request.user.company
    form = StaffUserForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = create_user(company=company, **form.cleaned_data)
        except DomainError as error:
            add_service_error(form, error, {})
        else:
            send_set_password_mail(
                request,
                user,
                subject=f"{company.name} invites you to Stemline",
                template="web/email/staff_invite.txt",
                role=user.get_role_display(),
            )
            messages.success(
                request,
                f"{user.username} added as {user.get_role_display()}; a link to choose a "
                "password is on its way to them.",
            )
            return redirect("users")
    return render(
        request,
        "web/setup/form.html",
        _ctx(form=form, heading="Add a person", back=reverse("users"), submit="Add and send link"),
    )


def _person(request, user_id: int) -> User:
    user = _staff(request).filter(pk=user_id).first()
    if user is None:
        raise Http404("no such person")
    return user


@area_required("people")
def user_edit(request, user_id: int):
    person = _person(request, user_id)
    initial = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "role": person.role,
        "active": person.is_active,
    }
    form = StaffEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = update_staff_user(
                company=request.user.company,
                user_id=person.pk,
                by=request.user,
                **form.cleaned_data,
            )
        except DomainError as error:
            add_service_error(form, error, {"userId": None})
        else:
            state = "may sign in" if person.is_active else "is deactivated"
            messages.success(
                request, f"{person.username} saved: {person.get_role_display()}, {state}."
            )
            return redirect("users")
    return render(
        request,
        "web/setup/user_edit.html",
        _ctx(form=form, person=person),
    )


@require_POST
@area_required("people")
def user_send_link(request, user_id: int):
    person = _person(request, user_id)
    if not person.is_active:
        messages.error(request, f"{person.username} is deactivated; reactivate them first.")
        return redirect("user_edit", user_id=person.pk)
    send_set_password_mail(
        request,
        person,
        subject=f"Choose your Stemline password for {request.user.company.name}",
        template="web/email/staff_invite.txt",
        role=person.get_role_display(),
    )
    messages.success(request, f"A link to choose a password was sent to {person.email}.")
    return redirect("users")
