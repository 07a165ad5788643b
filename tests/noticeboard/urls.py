from django.urls import path

from tests.noticeboard import views

app_name = "noticeboard"
urlpatterns = [
    path("notices/", views.index, name="index"),
    path("notices/<int:pk>/", views.detail, name="detail"),
    path("notices/at/<str:code>/post/", views.post, name="post"),
]
