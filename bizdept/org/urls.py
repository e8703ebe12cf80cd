from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("people/", views.EmployeeListPage.as_view(), name="employee_list"),
    path("people/<int:pk>/", views.EmployeeDetailPage.as_view(), name="employee_detail"),
    path("units/", views.org_chart, name="org_chart"),
    path("units/<int:pk>/", views.UnitDetailPage.as_view(), name="unit_detail"),
]
