"""English dates and times as Vouch has always shown them ("Dec 3, 2026", 24-hour
clock), rather than Django's US defaults ("Dec. 3, 2026", "p.m."); the templates name
the formats (``|date:"DATE_FORMAT"``), so each language shows its own
(FORMAT_MODULE_PATH in config/settings/languages.py)."""

DATE_FORMAT = "M j, Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "M j, Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "M j"
SHORT_DATE_FORMAT = "M j, Y"
SHORT_DATETIME_FORMAT = "M j, H:i"
