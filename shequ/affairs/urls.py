from django.urls import path

from . import views

app_name = "affairs"

urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("desk/materials/", views.materials, name="materials"),
    path("cases/<str:number>/", views.case_detail, name="case"),
    path("cases/<str:number>/receipt.pdf", views.receipt_pdf, name="receipt"),
    path("cases/<str:number>/deliver/", views.deliver, name="deliver"),
    path("cases/<str:number>/coordinate/", views.coordinate, name="coordinate"),
    path("cases/<str:number>/home-visit/", views.home_visit, name="home_visit"),
    path("cases/<str:number>/reveal/", views.reveal, name="reveal"),
    path("notices/<str:number>/", views.notice, name="notice"),
    path("notices/<str:number>/notice.pdf", views.notice_pdf, name="notice_pdf"),
    path("inquiries/", views.inquiries, name="inquiries"),
    path("stats/", views.stats, name="stats"),
]
