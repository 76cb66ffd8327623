"""Routes of the Vendor Portal."""

from django.urls import path

from . import views, views_availability

app_name = "vendor_portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("orders/<int:po_id>/", views.order, name="order"),
    path("orders/<int:po_id>/confirm/", views.confirm, name="confirm"),
    path("orders/<int:po_id>/lines/<int:item_id>/ship/", views.ship, name="ship"),
    path("availability/", views_availability.availability, name="availability"),
    path(
        "availability/upload/",
        views_availability.availability_upload,
        name="availability_upload",
    ),
    path(
        "availability/confirm/",
        views_availability.availability_confirm,
        name="availability_confirm",
    ),
    path("token/", views.token, name="token"),
    path("token/reset/", views.token_reset, name="token_reset"),
    path("profile/", views.profile, name="profile"),
]
