"""calls pages of the agents' workspace."""

urlpatterns: list = []
