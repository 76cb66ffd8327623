"""Sign-in and password reset behind the sign-in throttle the API's `login` shares, and the
password change and reset that revoke the user's API keys."""

from django.contrib import messages
from django.contrib.auth import views as auth_views

from stemline.core.services import TooManyAttempts, client_address, throttle_reset_request
from stemline.tokens.services import revoke_user_tokens
from stemline.web.forms import SignInForm


class SignInView(auth_views.LoginView):
    """The web application's and the Vendor Portal's sign-in."""

    template_name = "web/login.html"
    form_class = SignInForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
            response["Retry-After"] = str(form.throttled.verdict.retry_after)
        return response


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Each reset request sends a mail: it counts as an attempt for that login and address."""

    def form_valid(self, form):
        try:
            throttle_reset_request(
                email=form.cleaned_data["email"], address=client_address(self.request)
            )
        except TooManyAttempts as refused:
            form.add_error(None, refused.message[0].upper() + refused.message[1:] + ".")
            response = self.form_invalid(form)
            response.status_code = 429
            response["Retry-After"] = str(refused.verdict.retry_after)
            return response
        return super().form_valid(form)


class RevokingPasswordChangeView(auth_views.PasswordChangeView):
    """A new password also ends the API keys `login` gave for the old one."""

    def form_valid(self, form):
        response = super().form_valid(form)
        if revoke_user_tokens(user=form.user):
            messages.info(self.request, "Your API keys from login were revoked; log in again.")
        return response


class RevokingPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a password from a reset (or invitation) link ends the user's API keys too:
    whoever knew the old password may have fetched one."""

    def form_valid(self, form):
        response = super().form_valid(form)
        revoke_user_tokens(user=form.user)
        return response
