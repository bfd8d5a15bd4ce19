"""Evaluations: a person's entitlements under a catalogue for a month."""
