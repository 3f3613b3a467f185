from django.db import migrations


def confirm_existing(apps, schema_editor):
    """Accounts made before allauth kept their addresses: they were created by administrators,
    who vouched for them. Without this, the first login would ask for a confirmation."""
    User = apps.get_model("base", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    known = set(EmailAddress.objects.values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=pk, email=email, verified=True, primary=True)
            for pk, email in User.objects.exclude(pk__in=known).values_list("pk", "email")
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("base", "0004_accessibility_declaration"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(confirm_existing, migrations.RunPython.noop)]
