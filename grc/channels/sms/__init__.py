"""SMS to citizens: the provider interface (providers.py), sending and delivery reports
(services.py), the background job (tasks.py)."""
