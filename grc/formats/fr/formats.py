# Dates as French administrations write them: "14 juillet 2026 à 14:32".
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = r"j F Y \à H:i"
