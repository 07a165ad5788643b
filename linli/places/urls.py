from django.urls import path

from linli.places import views

app_name = "places"
urlpatterns = [
    path("places/", views.place_index, name="index"),
    path("places/import/", views.place_import_view, name="import"),
    path("places/<str:code>/", views.place_detail, name="detail"),
    path("places/<str:code>/export.xlsx", views.place_export, name="export"),
]
