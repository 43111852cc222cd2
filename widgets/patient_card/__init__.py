"""The patient card: demographics, attachment, family relations."""
