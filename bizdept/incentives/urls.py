from django.urls import path

from . import views

app_name = "incentives"

urlpatterns = [
    # === Bonus plans and what-if (INC-1) ===
    path("plans/", views.PlanListPage.as_view(), name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.PlanDetailPage.as_view(), name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/new-version/", views.plan_new_version, name="plan_new_version"),
    path("plans/<int:pk>/submit/", views.plan_submit, name="plan_submit"),
    path("plans/<int:pk>/delete/", views.plan_delete, name="plan_delete"),
    path("plans/<int:pk>/what-if/", views.plan_what_if, name="plan_what_if"),
    # === Bonus runs and lines (INC-2) ===
    path("runs/", views.RunListPage.as_view(), name="run_list"),
    path("runs/new/", views.run_create, name="run_create"),
    path("runs/<int:pk>/", views.RunDetailPage.as_view(), name="run_detail"),
    path("runs/<int:pk>/recompute/", views.run_recompute, name="run_recompute"),
    path("runs/<int:pk>/submit/", views.run_submit, name="run_submit"),
    path("runs/<int:pk>/export/", views.run_export, name="run_export"),
    path("lines/<int:pk>/", views.line_detail, name="line_detail"),
    path("my/", views.MyBonusPage.as_view(), name="my_bonus"),
    # === Awards (INC-3) ===
    path("awards/", views.AwardListPage.as_view(), name="award_list"),
    path("awards/propose/", views.award_propose, name="award_propose"),
    path("awards/special/", views.award_special, name="award_special"),
    path("awards/<int:pk>/", views.award_detail, name="award_detail"),
    path("awards/<int:pk>/confirm/", views.award_confirm, name="award_confirm"),
    path("awards/<int:pk>/decline/", views.award_decline, name="award_decline"),
    path("titles/", views.TitleListPage.as_view(), name="title_list"),
    path("titles/new/", views.title_create, name="title_create"),
    path("titles/<int:pk>/edit/", views.title_edit, name="title_edit"),
    path("titles/<int:pk>/deactivate/", views.title_deactivate, name="title_deactivate"),
]
