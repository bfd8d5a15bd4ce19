"""Consequences of a published year (结果运用): commendations, interviews, deadlines."""
