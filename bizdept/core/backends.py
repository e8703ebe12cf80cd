from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .models import employee_or_none


class EmployeeBackend(ModelBackend):
    """Password sign-in where a left employee cannot sign in or stay signed in (ORG-2)."""

    def user_can_authenticate(self, user):
        if not super().user_can_authenticate(user):
            return False
        employee = employee_or_none(user)
        return employee is None or employee.status != "left"

    def get_user(self, user_id):
        # Each request loads the login with its employee, unit and position in one query.
        User = get_user_model()
        user = (
            User._default_manager.select_related("employee__unit", "employee__position")
            .filter(pk=user_id).first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None

