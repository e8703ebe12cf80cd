from django.urls import path

from . import views

app_name = "appraisal"

urlpatterns = [
    # === Scorecard templates (PER-2) ===
    path("templates/", views.TemplateListPage.as_view(), name="template_list"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.TemplateDetailPage.as_view(), name="template_detail"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/deactivate/", views.template_deactivate,
         name="template_deactivate"),
    # === Cycles (PER-3) and their results (PER-4, PER-5) ===
    path("cycles/", views.CycleListPage.as_view(), name="cycle_list"),
    path("cycles/new/", views.cycle_open, name="cycle_open"),
    path("cycles/<int:pk>/", views.CycleDetailPage.as_view(), name="cycle_detail"),
    path("cycles/<int:pk>/advance/", views.cycle_advance, name="cycle_advance"),
    path("cycles/<int:pk>/refresh/", views.cycle_refresh, name="cycle_refresh"),
    path("cycles/<int:pk>/submit/", views.cycle_submit, name="cycle_submit"),
    path("cycles/<int:pk>/reopen/", views.cycle_reopen, name="cycle_reopen"),
    path("cycles/<int:pk>/calibration/", views.calibration, name="calibration"),
    # === One person's appraisal ===
    path("mine/", views.MyAppraisalsPage.as_view(), name="my_appraisals"),
    path("team/", views.TeamAppraisalsPage.as_view(), name="team"),
    path("<int:pk>/", views.appraisal_detail, name="appraisal_detail"),
    path("<int:pk>/self-assessment/", views.appraisal_self_assess, name="self_assess"),
    path("<int:pk>/review/", views.appraisal_review, name="review"),
    path("<int:pk>/interview/", views.appraisal_interview, name="interview"),
    path("<int:pk>/sign/", views.appraisal_sign, name="sign"),
    path("<int:pk>/calibrate/", views.appraisal_calibrate, name="calibrate"),
    path("<int:pk>/improvements/", views.improvement_add, name="improvement_add"),
    path("<int:pk>/improvements/<int:item_pk>/", views.improvement_update,
         name="improvement_update"),
]
