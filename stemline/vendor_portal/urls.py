"""Routes of the Vendor Portal."""

from django.urls import path

from . import views

app_name = "vendor_portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("orders/<int:po_id>/", views.order, name="order"),
    path("orders/<int:po_id>/confirm/", views.confirm, name="confirm"),
    path("orders/<int:po_id>/lines/<int:item_id>/ship/", views.ship, name="ship"),
    path("token/", views.token, name="token"),
    path("token/reset/", views.token_reset, name="token_reset"),
    path("profile/", views.profile, name="profile"),
]
