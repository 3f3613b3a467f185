# The same dates in English: "14 July 2026 at 14:32".
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = r"j F Y \a\t H:i"
