from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.entry, name="entry"),
    path("home/", views.home, name="home"),
    path("resident/", views.resident_entry, name="resident"),
    path("healthz", views.healthz, name="healthz"),
]
