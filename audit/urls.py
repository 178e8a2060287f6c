"""The audit log pages."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("export/", views.export, name="export"),
    path("integrity/", views.integrity, name="integrity"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("history/<str:object_type>/<str:object_id>/", views.history, name="object_history"),
]
