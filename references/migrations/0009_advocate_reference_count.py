"""Fill ``Advocate.reference_count`` (advocates 0016) from the calls already given.

From here on the services keep it (references.services.summary). One set-wise UPDATE
from a GROUP BY on PostgreSQL; a correlated count elsewhere (SQLite before 3.33 has
no UPDATE ... FROM).
"""

from django.db import migrations

POSTGRES = """
    UPDATE advocates_advocate SET reference_count = counted.n
    FROM (
        SELECT advocate_id, COUNT(*) AS n FROM references_ask
        WHERE status = 'completed' GROUP BY advocate_id
    ) AS counted
    WHERE advocates_advocate.id = counted.advocate_id
"""
PORTABLE = """
    UPDATE advocates_advocate SET reference_count = (
        SELECT COUNT(*) FROM references_ask
        WHERE references_ask.advocate_id = advocates_advocate.id
        AND references_ask.status = 'completed'
    )
    WHERE EXISTS (
        SELECT 1 FROM references_ask
        WHERE references_ask.advocate_id = advocates_advocate.id
        AND references_ask.status = 'completed'
    )
"""


def fill(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(POSTGRES if postgres else PORTABLE)


class Migration(migrations.Migration):
    dependencies = [
        ("advocates", "0016_advocate_referral_reference_counts"),
        ("references", "0008_industry_weights_interests"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
