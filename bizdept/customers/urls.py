from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListPage.as_view(), name="customer_list"),
    path("pool/", views.PoolPage.as_view(), name="pool"),
    path("revisits/", views.RevisitsPage.as_view(), name="revisits"),
    path("field-reports/", views.field_reports, name="field_reports"),
    path("new/", views.customer_create, name="customer_create"),
    path("transfer/", views.customer_transfer, name="customer_transfer"),
    path("<int:pk>/", views.CustomerDetailPage.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:pk>/claim/", views.customer_claim, name="customer_claim"),
    path("<int:pk>/release/", views.customer_release, name="customer_release"),
    path("<int:pk>/grade/", views.customer_grade, name="customer_grade"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:pk>/visits/new/", views.visit_create, name="visit_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("visits/<int:pk>/review/", views.visit_review, name="visit_review"),
]
