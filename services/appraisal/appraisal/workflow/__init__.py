"""The appraisal workflow (考核程序): a state machine per (year, subject)."""
