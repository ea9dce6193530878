"""Scenario files: readable YAML stories (configuration, services, accounts, readings,
payments over one or more periods) with the lines and balances expected of the engine.

`kvit scenario run FILE...` computes them and prints a diff against the expectations; the
format is described in docs/scenarios.md. This package may use PyYAML; `kvit.core` stays
standard-library only and never imports it.
"""
