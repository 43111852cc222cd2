"""«Доступ к ЭМК ребенка»: the access form and its printable application."""
