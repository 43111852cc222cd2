"""Icons, catalogs and demo data shipped with ARM."""
