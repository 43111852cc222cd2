"""The EMK screen (ЭМК): the record at a glance, the lab trend, the protocol editor."""
