"""letters pages of the agents' workspace."""

urlpatterns: list = []
