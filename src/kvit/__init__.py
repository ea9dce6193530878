"""Kvit: billing for housing and utility services."""
