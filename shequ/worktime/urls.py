from django.urls import path

from . import views

app_name = "worktime"

urlpatterns = [
    path("", views.calendar_month, name="calendar"),
]
