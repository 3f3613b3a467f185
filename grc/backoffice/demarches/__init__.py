"""The staff side of démarches: settings, texts, the form builder, catalogue, export/import."""
