"""PACS client, local study cache and pixel pipeline (no Qt). Filled by the PACS issue."""
