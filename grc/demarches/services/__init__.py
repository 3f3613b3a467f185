"""Every write of grc.demarches goes through these modules."""
