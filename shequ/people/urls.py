"""Staff pages of the resident database (人、户、房)."""

from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:person_id>/", views.person, name="person"),
    path("<int:person_id>/reveal/", views.reveal, name="reveal"),
    path("households/<int:household_id>/", views.household, name="household"),
    path("houses/<int:house_id>/", views.house, name="house"),
]
