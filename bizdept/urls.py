from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from bizdept.api import api
from bizdept.core import views as core_views
from bizdept.org import views as org_views

urlpatterns = [
    path("", org_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("profile/", core_views.profile, name="profile"),
    path("language/", core_views.set_language, name="set_language"),
    path("org/", include("bizdept.org.urls")),
    path("customers/", include("bizdept.customers.urls")),
    path("sales/", include("bizdept.sales.urls")),  # products, contract numbers (SAL)
    path("imports/", include("bizdept.imports.urls")),  # Excel import jobs (CUS-12)
    path("approvals/", include("bizdept.approvals.urls")),  # the approval engine (SAL-3)
    path("targets/", include("bizdept.targets.urls")),  # plans, tracking, rankings (TGT)
    path("reports/", include("bizdept.reports.urls")),  # role dashboards (RPT)
    path("kpi/", include("bizdept.kpi.urls")),  # the KPI library and its inputs (PER-1)
    path("appraisal/", include("bizdept.appraisal.urls")),  # appraisal pages (PER-2..5)
    path("incentives/", include("bizdept.incentives.urls")),  # bonuses and awards (INC)
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
