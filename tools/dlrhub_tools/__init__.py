"""Operator tools for a deployed (or local) DLR Hub: recount counters, replay parked stream batches."""
