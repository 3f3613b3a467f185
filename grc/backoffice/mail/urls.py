"""mail pages of the agents' workspace."""

urlpatterns: list = []
