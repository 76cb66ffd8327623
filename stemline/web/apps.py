"""The company's web application."""

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "stemline.web"
    label = "web"
