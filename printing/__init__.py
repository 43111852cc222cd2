"""Paper forms as reportlab documents (no Qt). Filled by the forms issues."""
