"""The shared simulator: the batched core, its compiled step, observations, the ledger, the
forecast model and the scripted behaviours.
"""
