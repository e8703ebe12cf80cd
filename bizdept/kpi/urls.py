from django.urls import path

from . import views

app_name = "kpi"

urlpatterns = [
    path("", views.kpi_library, name="library"),
    path("inputs/", views.kpi_inputs, name="inputs"),
]
