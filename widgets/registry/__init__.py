"""The patient registry screen: search, results, open a card."""
