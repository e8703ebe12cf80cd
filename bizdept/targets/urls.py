from django.urls import path

from . import views

app_name = "targets"

urlpatterns = [
    # === Plans (TGT-1..4) ===
    path("plans/", views.PlanListPage.as_view(), name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.PlanDetailPage.as_view(), name="plan_detail"),
    path("plans/<int:pk>/grid/", views.plan_grid, name="plan_grid"),
    path("plans/<int:pk>/split/", views.plan_split, name="plan_split"),
    path("plans/<int:pk>/submit/", views.plan_submit, name="plan_submit"),
    path("plans/<int:pk>/revise/", views.plan_revise, name="plan_revise"),
    path("plans/<int:pk>/reassign/", views.plan_reassign, name="plan_reassign"),
    # === Tracking (TGT-5) and rankings (TGT-6) ===
    path("tracking/", views.tracking, name="tracking"),
    path("tracking/mine/", views.my_targets, name="my_targets"),
    path("tracking/rankings/", views.rankings, name="rankings"),
    path("tracking/records/<str:metric>/", views.TrackingRecordsPage.as_view(),
         name="records"),
]
