"""Staff pages of the resident database (人、户、房)."""

from django.urls import path

from . import change_views, desk, import_views, quality_views, views

app_name = "people"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:person_id>/", views.person, name="person"),
    path("<int:person_id>/reveal/", views.reveal, name="reveal"),
    path("households/<int:household_id>/", views.household, name="household"),
    path("houses/<int:house_id>/", views.house, name="house"),
    # Import of a committee's sheet (houses, persons with household and relation).
    path("import/", import_views.upload, name="import"),
    path("import/template.xlsx", import_views.template, name="import_template"),
    path("import/<uuid:token>/", import_views.job, name="import_job"),
    path("import/<uuid:token>/status/", import_views.status, name="import_status"),
    path("import/<uuid:token>/errors.xlsx", import_views.error_report, name="import_errors"),
    # Edits, and the street's approval of them.
    path("<int:person_id>/edit/", change_views.edit, name="edit"),
    path("changes/", change_views.queue, name="changes"),
    path("changes/<int:change_id>/", change_views.detail, name="change"),
    path("changes/policy/", change_views.policy, name="approval_policy"),
    # Data quality, the population summary and the masked export.
    path("quality/", quality_views.quality, name="quality"),
    path("population/", quality_views.population, name="population"),
    path("export.xlsx", quality_views.export, name="export"),
    # The acceptance desk's look-up of an applicant.
    path("desk-lookup/", desk.lookup, name="desk_lookup"),
]
