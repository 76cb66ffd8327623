"""The start page and My Profile."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from stemline.core.models import Role
from stemline.sales.models import DocumentStatus, Invoice, Prebook
from stemline.web.access import area_required, can


@login_required
def home(request):
    user = request.user
    if user.role == Role.VENDOR and user.vendor_id:
        return redirect("vendor_portal:home")
    pending = 0
    if can(user, "orders"):
        pending = sum(
            model.objects.filter(
                company_id=user.company_id, status=DocumentStatus.PENDING_APPROVAL
            ).count()
            for model in (Invoice, Prebook)
        )
    return render(request, "web/home.html", {"pending": pending})


@area_required("profile")
def profile(request):
    return render(request, "web/profile.html", {"section": "profile"})
