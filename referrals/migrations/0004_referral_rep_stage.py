from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0003_referral_kpi_cover"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(fields=["owner_rep", "stage"], name="referral_rep_stage"),
        ),
    ]
