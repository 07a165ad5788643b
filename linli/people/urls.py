from django.urls import path

from linli.people import views

app_name = "people"
urlpatterns = [
    path("people/", views.person_index, name="index"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/unmask/", views.person_unmask_view, name="person_unmask"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("me/", views.profile, name="profile"),
    path("audit/", views.audit_index, name="audit"),
    path("places/<str:code>/memberships/", views.place_memberships, name="place_memberships"),
    path("memberships/<int:pk>/revoke/", views.membership_revoke_view, name="membership_revoke"),
]
