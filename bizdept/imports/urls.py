from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.ImportListPage.as_view(), name="list"),
    path("<int:pk>/", views.job_page, name="job"),
    path("<int:pk>/errors.xlsx", views.issues_xlsx, name="issues_xlsx"),
]
