from django.urls import path

from . import (
    apikey_views,
    class_views,
    component_views,
    evaluation_views,
    intake_views,
    map_views,
    public_views,
    views,
)

app_name = "grid"

urlpatterns = [
    path("", views.cases, name="cases"),
    path("report/", views.report, name="report"),
    path("report/nearby/", views.nearby, name="nearby"),
    path("intake/", intake_views.intake, name="intake"),
    path("cases/<str:number>/", views.case, name="case"),
    path("cases/<str:number>/act/<str:action>/", views.case_action, name="case_action"),
    path("public/<str:street_code>/report/", public_views.public_report, name="public_report"),
    path("public/followup/<str:token>/", public_views.followup, name="followup"),
    path("map/", map_views.grid_map, name="map"),
    path("map/data.json", map_views.map_data, name="map_data"),
    path("evaluation/", evaluation_views.evaluation, name="evaluation"),
    path("evaluation.xlsx", evaluation_views.evaluation_export, name="evaluation_export"),
    path("components/", component_views.components, name="components"),
    path("components/import/", component_views.component_import, name="component_import"),
    path("classes/", class_views.classes, name="classes"),
    path("classes/<str:kind>/<str:code>/", class_views.class_edit, name="class_edit"),
    path("apikeys/", apikey_views.apikeys, name="apikeys"),
]
