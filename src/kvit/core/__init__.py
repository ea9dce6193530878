"""The pure calculation engine: standard library only, no Django, no clock, no I/O."""
