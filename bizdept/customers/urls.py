from django.urls import path

from bizdept.imports import views as import_views

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListPage.as_view(), name="customer_list"),
    path("pool/", views.PoolPage.as_view(), name="pool"),
    path("revisits/", views.RevisitsPage.as_view(), name="revisits"),
    path("field-reports/", views.field_reports, name="field_reports"),
    path("new/", views.customer_create, name="customer_create"),
    path("transfer/", views.customer_transfer, name="customer_transfer"),
    # --- Excel import (CUS-12) ---
    path("import/", import_views.upload, {"kind": "customers",
                                          "template_url": "customers:customer_import_template",
                                          "back_url": "customers:customer_list"},
         name="customer_import"),
    path("import/template.xlsx", import_views.template,
         {"kind": "customers", "filename": "customers-template"},
         name="customer_import_template"),
    path("<int:pk>/", views.CustomerDetailPage.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:pk>/claim/", views.customer_claim, name="customer_claim"),
    path("<int:pk>/release/", views.customer_release, name="customer_release"),
    path("<int:pk>/grade/", views.customer_grade, name="customer_grade"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:pk>/visits/new/", views.visit_create, name="visit_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("visits/<int:pk>/review/", views.visit_review, name="visit_review"),
    # --- complaints, surveys, market intelligence (CUS-9..11) ---
    path("<int:pk>/complaints/new/", views.complaint_create, name="complaint_create"),
    path("<int:pk>/surveys/new/", views.survey_create, name="survey_create"),
    path("complaints/", views.ComplaintListPage.as_view(), name="complaint_list"),
    # Under complaints/ so the "Complaints" navigation entry stays lit on the surveys tab.
    path("complaints/surveys/", views.SurveyListPage.as_view(), name="survey_list"),
    path("complaints/<int:pk>/", views.ComplaintDetailPage.as_view(), name="complaint_detail"),
    path("complaints/<int:pk>/edit/", views.complaint_edit, name="complaint_edit"),
    path("complaints/<int:pk>/start/", views.complaint_start, name="complaint_start"),
    path("complaints/<int:pk>/resolve/", views.complaint_resolve, name="complaint_resolve"),
    path("complaints/<int:pk>/close/", views.complaint_close, name="complaint_close"),
    path("complaints/<int:pk>/reassign/", views.complaint_reassign, name="complaint_reassign"),
    path("surveys/<int:pk>/edit/", views.survey_edit, name="survey_edit"),
    path("market/", views.MarketReportListPage.as_view(), name="market_report_list"),
    path("market/new/", views.market_report_create, name="market_report_create"),
    path("market/<int:pk>/", views.MarketReportDetailPage.as_view(),
         name="market_report_detail"),
    path("market/<int:pk>/edit/", views.market_report_edit, name="market_report_edit"),
    path("market/<int:pk>/delete/", views.market_report_delete, name="market_report_delete"),
]
