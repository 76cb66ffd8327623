"""Routes of Setup > Integrations."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.integration_list, name="integrations"),
    path("connect/", views.integration_connect, name="integration_connect"),
    path("<int:channel_id>/", views.integration_detail, name="integration_detail"),
    path("<int:channel_id>/bundle.json", views.integration_bundle, name="integration_bundle"),
    path("<int:channel_id>/retry/", views.integration_retry, name="integration_retry"),
    path(
        "<int:channel_id>/events/<int:event_id>/replay/",
        views.integration_replay,
        name="integration_replay",
    ),
]
