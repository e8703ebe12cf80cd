import pytest

from .factories import register_test_type, unregister_test_type


@pytest.fixture(autouse=True)
def test_document_type():
    """Every approvals test has the test document type registered, and forgets it after."""
    register_test_type()
    yield
    unregister_test_type()
