from django.urls import path

from linli.needs import dashboard, views

app_name = "needs"
urlpatterns = [
    path("needs/new/", views.need_new, name="new"),
    path("needs/new/emergency/", views.emergency_advice, name="emergency"),
    path("needs/mine/", views.my_needs, name="mine"),
    path("needs/queue/", views.queue, name="queue"),
    path("needs/dispatches/", views.dispatches, name="dispatches"),
    path("needs/dispatches/<int:pk>/", views.dispatch_detail, name="dispatch"),
    path("needs/dispatches/<int:pk>/<slug:verb>/", views.dispatch_act, name="dispatch_act"),
    path("needs/dashboard/", dashboard.dashboard, name="dashboard"),
    path("needs/dashboard/export.<str:fmt>", dashboard.dashboard_export, name="dashboard_export"),
    path("needs/<int:pk>/", views.need_detail, name="detail"),
    path("needs/<int:pk>/photos/<int:photo_id>/", views.need_photo, name="photo"),
    path("needs/<int:pk>/unmask/", views.need_unmask, name="unmask"),
    path("needs/<int:pk>/<slug:verb>/", views.need_act, name="act"),
    path("places/<str:code>/qr/", views.building_qr, name="qr"),
    path("r/<str:token>/", views.rate_by_link, name="rate_by_link"),
]
