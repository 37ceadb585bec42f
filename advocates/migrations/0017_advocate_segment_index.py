"""The index segment counts read (advocates.models.Advocate.Meta), built once the
referral and reference counts are filled (referrals 0008, references 0009): built over
the filled rows, it is less than half the size it would be if the fill had updated it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("advocates", "0016_advocate_referral_reference_counts"),
        ("referrals", "0008_advocate_referral_count"),
        ("references", "0009_advocate_reference_count"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="advocate",
            index=models.Index(
                condition=models.Q(("status", "active")),
                fields=[
                    "industry",
                    "seniority",
                    "lifetime_points",
                    "referral_count",
                    "reference_count",
                    "ams",
                    "nps_score",
                    "last_active_at",
                    "company",
                    "id",
                ],
                name="advocate_segment",
            ),
        ),
    ]
