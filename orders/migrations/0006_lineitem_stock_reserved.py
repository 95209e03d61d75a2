from django.db import migrations, models


def mark_reserved_lines(apps, schema_editor):
    """Until this migration every store reserved stock for every tracked variant, whatever
    its plan, and cancels put back what the variant tracks today: the lines of tracked
    variants are the ones that took units. Demo orders were loaded without taking any, but
    nothing tells them apart; marking them too keeps the old behaviour for old orders."""
    LineItem = apps.get_model("orders", "LineItem")
    LineItem.objects.filter(variant__track_inventory=True).update(stock_reserved=True)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_customer_email_message"),
    ]

    operations = [
        migrations.AddField(
            model_name="lineitem",
            name="stock_reserved",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.RunPython(mark_reserved_lines, migrations.RunPython.noop, elidable=True),
    ]
