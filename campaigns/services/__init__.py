"""Every write of the campaigns app, by concern: ``campaigns`` (the send state machine and
tracking), ``kinds``, ``segments``, ``triggers``."""
