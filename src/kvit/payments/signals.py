"""What the payments app tells the apps built on it (they connect in their `ready`)."""

from django.dispatch import Signal

payment_transferred = Signal()
"""Sent by `kvit.payments.actions.transfer_from_suspense` inside its transaction once the
payment is posted to its account (sender: `Payment`; `payment`, `user`), so what a source
held back for want of an account follows it: a registry line's meter readings
(`kvit.registries.readings.record_held`). A receiver's error rolls the transfer back."""
