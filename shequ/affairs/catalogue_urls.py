from django.urls import path

from . import catalogue_views as views

app_name = "catalogue"

urlpatterns = [
    path("", views.catalogue_list, name="list"),
    path("export.xlsx", views.catalogue_export, name="export"),
    path("import/", views.catalogue_import, name="import"),
    path("<slug:code>/", views.matter_detail, name="matter"),
    path("<slug:code>/guide.pdf", views.guide_pdf, name="guide_pdf"),
]
