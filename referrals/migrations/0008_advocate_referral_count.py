"""Fill ``Advocate.referral_count`` (advocates 0016) from the referrals already made.

From here on the services keep it (referrals.services.summary). One set-wise UPDATE
from a GROUP BY on PostgreSQL; a correlated count elsewhere (SQLite before 3.33 has
no UPDATE ... FROM).
"""

from django.db import migrations

POSTGRES = """
    UPDATE advocates_advocate SET referral_count = counted.n
    FROM (
        SELECT advocate_id, COUNT(*) AS n FROM referrals_referral
        WHERE stage <> 'rejected' GROUP BY advocate_id
    ) AS counted
    WHERE advocates_advocate.id = counted.advocate_id
"""
PORTABLE = """
    UPDATE advocates_advocate SET referral_count = (
        SELECT COUNT(*) FROM referrals_referral
        WHERE referrals_referral.advocate_id = advocates_advocate.id
        AND referrals_referral.stage <> 'rejected'
    )
    WHERE EXISTS (
        SELECT 1 FROM referrals_referral
        WHERE referrals_referral.advocate_id = advocates_advocate.id
        AND referrals_referral.stage <> 'rejected'
    )
"""


def fill(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(POSTGRES if postgres else PORTABLE)


class Migration(migrations.Migration):
    dependencies = [
        ("advocates", "0016_advocate_referral_reference_counts"),
        ("referrals", "0007_chains_escalation_goals"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
