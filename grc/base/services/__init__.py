"""Every write of grc.base goes through these modules (see STYLE: one write path per change)."""
