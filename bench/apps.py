"""Benchmark data and harness (manage.py bench_data, bench/run)."""

from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench"
    default_auto_field = "django.db.models.BigAutoField"
