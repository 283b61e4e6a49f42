from django.urls import path

from . import views

app_name = "workorders"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/act/", views.act, name="act"),
    path("<str:number>/assign/", views.assign, name="assign"),
    path("<str:number>/comment/", views.comment, name="comment"),
    path("<str:number>/pause/", views.pause, name="pause"),
    path("<str:number>/resume/", views.resume, name="resume"),
    path("<str:number>/upload/", views.upload, name="upload"),
    path("<str:number>/rate/", views.rate, name="rate"),
]
