from decimal import Decimal

from django.db import migrations

# CUS-3/CUS-4 defaults: money received in the last 12 months → grade → revisit interval.
GRADES = [("A", Decimal("1000000"), 7), ("B", Decimal("300000"), 14),
          ("C", Decimal("50000"), 30), ("D", Decimal("0"), 90)]


def create_defaults(apps, schema_editor):
    GradeRule = apps.get_model("customers", "GradeRule")
    for grade, amount, days in GRADES:
        GradeRule.objects.get_or_create(grade=grade, defaults={"min_received": amount,
                                                               "revisit_days": days})
    apps.get_model("customers", "CustomerSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
