"""Pages of the company's web application."""

from django.shortcuts import render


def home(request):
    return render(request, "web/home.html")
