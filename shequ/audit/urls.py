from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("changes/", views.change_log, name="changes"),
    path("access/", views.access_log, name="access"),
]
