from django.urls import path, re_path

from . import views

app_name = "places"

urlpatterns = [
    path("", views.place_list, name="list"),
    path("import/", views.place_import, name="import"),
    path("import/report.csv", views.import_report, name="import_report"),
    re_path(r"^export\.(?P<fmt>csv|geojson)$", views.place_export, name="export"),
    re_path(r"^(?P<code>[0-9]{6,15})/$", views.place_detail, name="detail"),
]
