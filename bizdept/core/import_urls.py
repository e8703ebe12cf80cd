from django.urls import path

from . import import_views

app_name = "imports"
urlpatterns = [
    path("", import_views.ImportListPage.as_view(), name="list"),
    path("<int:pk>/", import_views.job_page, name="job"),
    path("<int:pk>/errors.xlsx", import_views.issues_xlsx, name="issues_xlsx"),
]
