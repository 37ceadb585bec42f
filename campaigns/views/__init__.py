"""The campaigns app's views: ``campaigns`` (compose, send, track), ``kinds``, ``segments``."""
