from django.urls import path

from . import views

app_name = "approvals"
urlpatterns = [
    path("", views.InboxPage.as_view(), name="inbox"),
    path("mine/", views.MyRequestsPage.as_view(), name="my_requests"),
    path("requests/<int:pk>/", views.RequestDetailPage.as_view(), name="request_detail"),
    path("requests/<int:pk>/cancel/", views.cancel, name="request_cancel"),
    path("tasks/<int:pk>/decide/", views.decide, name="decide"),
    path("delegations/", views.DelegationListPage.as_view(), name="delegation_list"),
    path("delegations/new/", views.delegation_create, name="delegation_create"),
    path("delegations/<int:pk>/end/", views.delegation_end, name="delegation_end"),
    path("policies/", views.policies, name="policies"),
]
