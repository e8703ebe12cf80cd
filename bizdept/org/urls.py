from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("people/", views.EmployeeListPage.as_view(), name="employee_list"),
    path("people/new/", views.employee_create, name="employee_create"),
    path("people/<int:pk>/", views.EmployeeDetailPage.as_view(), name="employee_detail"),
    path("people/<int:pk>/edit/", views.employee_edit, name="employee_edit"),
    path("people/<int:pk>/status/", views.employee_status, name="employee_status"),
    path("units/", views.org_chart, name="org_chart"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("units/<int:pk>/", views.UnitDetailPage.as_view(), name="unit_detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
]
